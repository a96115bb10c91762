using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;

namespace CloudPortal.Compute.KeyPairs;

/// <summary>
/// SSH public keys with EC2 semantics: <see cref="Parse"/> validates what a tenant imports (ImportKeyPair), and
/// <see cref="Generate"/> makes a key pair whose private half is handed out once (CreateKeyPair).
/// </summary>
/// <remarks>
/// Fingerprints are the strings EC2 shows, which are not what <c>ssh-keygen -l</c> prints for RSA:
/// <list type="bullet">
/// <item>Imported RSA: MD5 of the DER SubjectPublicKeyInfo (X.509 public key), lower-case hex pairs joined by
/// colons. The API reference calls this "the MD5 public key fingerprint as specified in section 4 of RFC 4716",
/// which would be MD5 over the SSH wire blob (<c>ssh-keygen -l -E md5</c>); but the EC2 User Guide's
/// verification commands for imported keys are <c>openssl rsa -in key -pubout -outform DER | openssl md5 -c</c>
/// and, for OpenSSH 7.8+ keys, <c>ssh-keygen -ef key -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c</c>
/// ("Verify the fingerprint of your key pair", verify-keys.html), and that is what EC2 returns: the
/// fingerprints observed from EC2 on serverfault question 603982 match the openssl command and not ssh-keygen,
/// and kops (pkg/pki/sshkey.go, ComputeAWSKeyFingerprint) and moto (ec2/utils.py, rsa_public_key_fingerprint)
/// compute MD5 over the DER SubjectPublicKeyInfo to match EC2. We follow the observed behaviour.</item>
/// <item>Created RSA: SHA-1 of the DER PKCS#8 private key, colon-separated hex (API reference, KeyPairInfo
/// keyFingerprint; User Guide: <c>openssl pkcs8 -in key -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c</c>).</item>
/// <item>Ed25519, created or imported: base64 of the SHA-256 of the SSH wire blob, which is OpenSSH's
/// <c>ssh-keygen -l -E sha256</c> value, without its <c>SHA256:</c> prefix and with the <c>=</c> padding kept:
/// the User Guide warns that EC2 "might append padding to the fingerprint with = characters" that ssh-keygen
/// omits, and EC2 does (eksctl issue 5145 and its fix, pull request 5151, compare against EC2's padded value).</item>
/// <item>ECDSA: EC2 does not take ECDSA keys; we accept them and give them the Ed25519 rule (OpenSSH's SHA-256
/// form, padded), so every non-RSA key reads the same way.</item>
/// </list>
/// </remarks>
public static class OpenSshKeys
{
    /// <summary>Longest text accepted: a 16384-bit RSA line is under 3 KiB, so this leaves room for long comments and RFC 4716 headers.</summary>
    public const int MaxInputLength = 16 * 1024;

    /// <summary>What EC2 creates, and NIST SP 800-131A's floor for RSA since 2014; larger keys (3072, 4096, ...) are welcome.</summary>
    public const int MinRsaBits = 2048;

    /// <summary>OpenSSH refuses larger RSA keys (SSH_RSA_MAXIMUM_MODULUS_SIZE in sshkey.h).</summary>
    public const int MaxRsaBits = 16384;

    /// <summary>EC2's default and only RSA size for CreateKeyPair.</summary>
    public const int GeneratedRsaBits = 2048;

    internal const string SupportedTypesText = "ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521";

    private const string RsaName = "ssh-rsa";
    private const string Ed25519Name = "ssh-ed25519";

    private static readonly (string Name, string Curve, ECCurve EcCurve, int Bits)[] EcdsaCurves =
    [
        ("ecdsa-sha2-nistp256", "nistp256", ECCurve.NamedCurves.nistP256, 256),
        ("ecdsa-sha2-nistp384", "nistp384", ECCurve.NamedCurves.nistP384, 384),
        ("ecdsa-sha2-nistp521", "nistp521", ECCurve.NamedCurves.nistP521, 521),
    ];

    /// <summary>
    /// Validates a public key in the OpenSSH one-line format, RFC 4716, or PEM (SubjectPublicKeyInfo or PKCS#1 RSA)
    /// and describes it. Throws <see cref="InvalidPublicKeyException"/>, with one sentence for the tenant, for
    /// anything that is not exactly one well-formed key of a supported type.
    /// </summary>
    public static PublicKeyInfo Parse(string publicKey)
    {
        if (publicKey is null)
            throw new InvalidPublicKeyException("The public key is empty.");
        if (publicKey.Length > MaxInputLength)
            throw new InvalidPublicKeyException($"The public key is {publicKey.Length} characters long; at most {MaxInputLength} are accepted.");
        // A byte order mark comes along when a file saved by a Windows editor is pasted or uploaded.
        var text = publicKey.Trim().TrimStart('\uFEFF').TrimStart();
        if (text.Length == 0)
            throw new InvalidPublicKeyException("The public key is empty.");

        var unwrapped = PublicKeyText.Unwrap(text);
        var (name, type, bits, rsaSpki) = Validate(unwrapped.Blob, unwrapped.DeclaredType);
        var line = $"{name} {Convert.ToBase64String(unwrapped.Blob)}";
        if (unwrapped.Comment.Length > 0)
            line += " " + unwrapped.Comment;
        // MD5 and SHA-1 below name keys the way EC2 does; they protect nothing, so their weakness does not matter.
#pragma warning disable CA5351
        var fingerprint = type == KeyType.Rsa ? ColonHex(MD5.HashData(rsaSpki!)) : Sha256Base64(unwrapped.Blob);
#pragma warning restore CA5351
        return new PublicKeyInfo(type, line, bits, fingerprint);
    }

    /// <summary>
    /// A new key pair as EC2's CreateKeyPair makes it: RSA 2048 (private key as PKCS#1 PEM) or Ed25519 (private key
    /// in the OpenSSH format). ECDSA is not offered, as on EC2: <see cref="ArgumentException"/>.
    /// </summary>
    public static GeneratedKeyPair Generate(KeyType type) => type switch
    {
        KeyType.Rsa => GenerateRsa(),
        KeyType.Ed25519 => GenerateEd25519(),
        KeyType.Ecdsa => throw new ArgumentException("ECDSA key pairs are not generated (EC2 creates only rsa and ed25519); import an ECDSA public key instead.", nameof(type)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown key type."),
    };

    private static GeneratedKeyPair GenerateRsa()
    {
        using var rsa = RSA.Create(GeneratedRsaBits);
        var info = Parse($"{RsaName} {Convert.ToBase64String(RsaBlob(rsa.ExportParameters(false)))}");
        var pkcs8 = rsa.ExportPkcs8PrivateKey();
        try
        {
            // ssh and ssh-keygen read PKCS#1 PEM; a trailing newline as ssh-keygen writes its files.
#pragma warning disable CA5350 // EC2's fingerprint of a key it created, an identifier only (see Parse).
            return new GeneratedKeyPair(info, rsa.ExportRSAPrivateKeyPem() + "\n", ColonHex(SHA1.HashData(pkcs8)));
#pragma warning restore CA5350
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static GeneratedKeyPair GenerateEd25519()
    {
        var seed = RandomNumberGenerator.GetBytes(32);
        try
        {
            var publicKey = new Ed25519PrivateKeyParameters(seed).GeneratePublicKey().GetEncoded();
            var blob = new SshWriter().WriteString(Ed25519Name).WriteString(publicKey).ToArray();
            var info = Parse($"{Ed25519Name} {Convert.ToBase64String(blob)}");
            return new GeneratedKeyPair(info, OpenSshPrivateKey.Ed25519(seed, publicKey, blob), info.Fingerprint);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    internal static bool IsSupportedType(string name) =>
        name is RsaName or Ed25519Name || EcdsaCurves.Any(c => c.Name == name);

    internal static InvalidPublicKeyException Unsupported(string name) =>
        new($"Key type \"{name}\" is not supported; use {SupportedTypesText}.");

    /// <summary>Checks the blob field by field; returns what the fingerprint and <see cref="PublicKeyInfo.Bits"/> need.</summary>
    private static (string Name, KeyType Type, int Bits, byte[]? RsaSpki) Validate(byte[] blob, string? declaredType)
    {
        var reader = new SshReader(blob);
        var name = reader.ReadName();
        if (declaredType is not null && name != declaredType)
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: the line says \"{declaredType}\" but the key data is \"{name}\".");
        var curve = EcdsaCurves.FirstOrDefault(c => c.Name == name);
        var (type, bits, rsaSpki) = name switch
        {
            RsaName => ValidateRsa(reader),
            Ed25519Name => ValidateEd25519(reader),
            _ when curve.Name is not null => ValidateEcdsa(reader, curve.Curve, curve.EcCurve, curve.Bits),
            _ => throw Unsupported(name),
        };
        return (name, type, bits, rsaSpki);
    }

    private static (KeyType, int, byte[]?) ValidateRsa(SshReader reader)
    {
        // RFC 4253 section 6.6: e before n.
        var exponent = reader.ReadPositiveMpint("exponent");
        var modulus = reader.ReadPositiveMpint("modulus");
        reader.ExpectEnd();

        var bits = (modulus.Length - 1) * 8 + (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)modulus[0]));
        if (bits < MinRsaBits)
            throw new InvalidPublicKeyException($"RSA keys must be at least {MinRsaBits} bits; this one has {bits}.");
        if (bits > MaxRsaBits)
            throw new InvalidPublicKeyException($"RSA keys may have at most {MaxRsaBits} bits; this one has {bits}.");
        if ((modulus[^1] & 1) == 0)
            throw new InvalidPublicKeyException("The RSA modulus is even, so it is not a product of two primes.");
        // The range Go's crypto/rsa accepts: 3 and 65537 are what key generators use; larger exponents and even
        // ones are broken or hostile keys.
        var e = exponent.Length <= 4 ? exponent.Aggregate(0L, (acc, b) => (acc << 8) | b) : long.MaxValue;
        if (e < 3 || e > int.MaxValue || (e & 1) == 0)
            throw new InvalidPublicKeyException("The RSA public exponent must be an odd number from 3 to 2147483647 (usually 65537).");

        try
        {
            using var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = modulus, Exponent = exponent });
            return (KeyType.Rsa, bits, rsa.ExportSubjectPublicKeyInfo());
        }
        catch (CryptographicException)
        {
            throw new InvalidPublicKeyException("The RSA public key is malformed.");
        }
    }

    private static (KeyType, int, byte[]?) ValidateEd25519(SshReader reader)
    {
        var key = reader.ReadString();
        reader.ExpectEnd();
        if (key.Length != Ed25519PublicKeyParameters.KeySize)
            throw new InvalidPublicKeyException($"Ed25519 keys must be exactly {Ed25519PublicKeyParameters.KeySize} bytes; this one has {key.Length}.");
        try
        {
            // Decodes the point (RFC 8032 section 5.1.3): a y at or above the field prime, or with no x, is refused.
            _ = new Ed25519PublicKeyParameters(key);
        }
        catch (ArgumentException)
        {
            throw new InvalidPublicKeyException("The Ed25519 key is not a point on the curve.");
        }
        return (KeyType.Ed25519, 256, null);
    }

    private static (KeyType, int, byte[]?) ValidateEcdsa(SshReader reader, string curveName, ECCurve curve, int bits)
    {
        // RFC 5656 section 3.1: the curve identifier again, then the point Q.
        var identifier = reader.ReadName();
        if (identifier != curveName)
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: the key type names {curveName} but the key data names the curve \"{identifier}\".");
        var point = reader.ReadString();
        reader.ExpectEnd();

        var coordinate = (bits + 7) / 8;
        if (point.Length != 1 + 2 * coordinate || point[0] != 0x04)
            throw new InvalidPublicKeyException($"The ECDSA key must be an uncompressed {curveName} point of {1 + 2 * coordinate} bytes; this one is {point.Length} bytes{(point.Length > 0 && point[0] != 0x04 ? " and not uncompressed" : "")}.");
        try
        {
            // Importing checks the point lies on the curve (OpenSSL's EC_KEY_check_key); all three NIST curves have
            // cofactor 1, so on the curve means in the right group.
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportParameters(new ECParameters
            {
                Curve = curve,
                Q = new ECPoint { X = point[1..(1 + coordinate)].ToArray(), Y = point[(1 + coordinate)..].ToArray() },
            });
        }
        catch (CryptographicException)
        {
            throw new InvalidPublicKeyException($"The ECDSA key's point is not on the {curveName} curve.");
        }
        return (KeyType.Ecdsa, bits, null);
    }

    internal static byte[] RsaBlob(RSAParameters parameters) =>
        new SshWriter().WriteString(RsaName).WriteMpint(parameters.Exponent).WriteMpint(parameters.Modulus).ToArray();

    internal static byte[] EcdsaBlob(ECParameters parameters)
    {
        var oid = parameters.Curve.Oid?.Value;
        var curve = EcdsaCurves.FirstOrDefault(c => c.EcCurve.Oid.Value == oid);
        if (curve.Name is null)
            throw new InvalidPublicKeyException($"ECDSA keys must be on P-256, P-384 or P-521; this one is on {parameters.Curve.Oid?.FriendlyName ?? oid ?? "an explicit curve"}.");
        var point = new byte[1 + parameters.Q.X!.Length + parameters.Q.Y!.Length];
        point[0] = 0x04;
        parameters.Q.X.CopyTo(point, 1);
        parameters.Q.Y.CopyTo(point, 1 + parameters.Q.X.Length);
        return new SshWriter().WriteString(curve.Name).WriteString(curve.Curve).WriteString(point).ToArray();
    }

    private static string ColonHex(byte[] digest) =>
        string.Join(':', digest.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));

    private static string Sha256Base64(byte[] blob) => Convert.ToBase64String(SHA256.HashData(blob));
}
