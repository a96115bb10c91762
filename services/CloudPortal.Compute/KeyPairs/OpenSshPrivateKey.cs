namespace CloudPortal.Compute.KeyPairs;

/// <summary>
/// Writes an unencrypted private key in OpenSSH's own format (the <c>openssh-key-v1</c> container of OpenSSH's
/// PROTOCOL.key), the only format OpenSSH reads Ed25519 private keys from.
/// </summary>
internal static class OpenSshPrivateKey
{
    /// <summary>Cipher "none" pads the private section to 8-byte blocks.</summary>
    private const int BlockSize = 8;

    /// <summary>ssh-keygen wraps the base64 at 70 columns.</summary>
    private const int LineLength = 70;

    /// <param name="seed">The 32-byte Ed25519 private seed (RFC 8032's k).</param>
    /// <param name="publicKey">The 32-byte public key (A).</param>
    /// <param name="publicBlob">The SSH wire blob of the public key.</param>
    public static string Ed25519(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> publicKey, byte[] publicBlob)
    {
        // OpenSSH stores the Ed25519 secret as seed || public key (64 bytes), as NaCl/ref10 do.
        var secret = new byte[64];
        seed.CopyTo(secret);
        publicKey.CopyTo(secret.AsSpan(32));

        // Two equal random check words let a reader detect a wrong passphrase; with cipher none they are
        // still required.
        var check = (uint)System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);
        var section = new SshWriter()
            .WriteUInt32(check).WriteUInt32(check)
            .WriteString("ssh-ed25519").WriteString(publicKey).WriteString(secret)
            .WriteString("");
        for (byte pad = 1; section.Length % BlockSize != 0; pad++)
            section.WriteRaw([pad]);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(secret);

        var container = new SshWriter()
            .WriteRaw("openssh-key-v1\0"u8)
            .WriteString("none").WriteString("none").WriteString("")
            .WriteUInt32(1)
            .WriteString(publicBlob)
            .WriteString(section.ToArray())
            .ToArray();

        var base64 = Convert.ToBase64String(container);
        var text = new System.Text.StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (var i = 0; i < base64.Length; i += LineLength)
            text.Append(base64, i, Math.Min(LineLength, base64.Length - i)).Append('\n');
        return text.Append("-----END OPENSSH PRIVATE KEY-----\n").ToString();
    }
}
