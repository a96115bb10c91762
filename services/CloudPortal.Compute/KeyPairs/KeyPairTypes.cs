namespace CloudPortal.Compute.KeyPairs;

public enum KeyType
{
    Rsa,
    Ed25519,
    Ecdsa,
}

/// <summary>A validated public key.</summary>
/// <param name="Type">The key's algorithm.</param>
/// <param name="OpenSshLine">
/// Normalised <c>type base64 [comment]</c>, single spaces, base64 re-encoded from the decoded key: what goes into
/// <c>authorized_keys</c> and what DescribeKeyPairs returns as <c>publicKey</c>, whatever format was imported.
/// </param>
/// <param name="Bits">RSA modulus size; 256 for Ed25519; the curve size (256, 384, 521) for ECDSA, as <c>ssh-keygen -l</c> prints.</param>
/// <param name="Fingerprint">What EC2 shows for an imported key (<see cref="OpenSshKeys"/> has the rules and their sources).</param>
public sealed record PublicKeyInfo(KeyType Type, string OpenSshLine, int Bits, string Fingerprint);

/// <summary>A key pair made here; <see cref="PrivateKey"/> is handed to the tenant once and never stored.</summary>
/// <param name="Public">The public half, as <see cref="OpenSshKeys.Parse"/> would describe it.</param>
/// <param name="PrivateKey">
/// Text to save as the <c>.pem</c> file: PKCS#1 <c>-----BEGIN RSA PRIVATE KEY-----</c> for RSA (EC2's
/// <c>KeyFormat=pem</c>), <c>-----BEGIN OPENSSH PRIVATE KEY-----</c> for Ed25519 (what EC2 returns for ed25519).
/// </param>
/// <param name="Fingerprint">What EC2 shows for a key it created (differs from <see cref="PublicKeyInfo.Fingerprint"/> for RSA).</param>
public sealed record GeneratedKeyPair(PublicKeyInfo Public, string PrivateKey, string Fingerprint);

/// <summary>A public key that is refused; <see cref="Exception.Message"/> is one sentence meant for the tenant.</summary>
public sealed class InvalidPublicKeyException(string message) : Exception(message);
