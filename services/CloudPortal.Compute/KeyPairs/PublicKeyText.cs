using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Text;

namespace CloudPortal.Compute.KeyPairs;

/// <summary>The SSH wire blob inside a public key text, with the type its text declares (if any) and its comment.</summary>
internal sealed record UnwrappedKey(string? DeclaredType, byte[] Blob, string Comment);

/// <summary>
/// The text formats a tenant may paste, unwrapped to the SSH wire blob that <see cref="OpenSshKeys"/> validates:
/// the OpenSSH one-line format (<c>ssh-ed25519 AAAA... comment</c>), RFC 4716 (<c>---- BEGIN SSH2 PUBLIC KEY ----</c>,
/// what <c>ssh-keygen -e</c> and PuTTYgen write), and PEM SubjectPublicKeyInfo / PKCS#1 (<c>ssh-keygen -e -m PKCS8|PEM</c>),
/// the formats EC2's ImportKeyPair documents.
/// </summary>
internal static class PublicKeyText
{
    private const string Rfc4716Begin = "---- BEGIN SSH2 PUBLIC KEY ----";
    private const string Rfc4716End = "---- END SSH2 PUBLIC KEY ----";

    public static UnwrappedKey Unwrap(string text)
    {
        if (text.StartsWith(Rfc4716Begin, StringComparison.Ordinal))
            return FromRfc4716(text);
        if (text.StartsWith("-----BEGIN ", StringComparison.Ordinal))
            return FromPem(text);
        return FromOpenSshLine(text);
    }

    private static UnwrappedKey FromOpenSshLine(string text)
    {
        var lines = text.Split('\n');
        if (lines.Length > 1)
            throw new InvalidPublicKeyException($"The public key must be a single line (\"ssh-ed25519 AAAA... comment\"); this one has {lines.Length} lines.");
        var fields = text.Split([' ', '\t'], 3, StringSplitOptions.RemoveEmptyEntries);
        var type = fields[0];
        if (!OpenSshKeys.IsSupportedType(type))
        {
            // A word shaped like an SSH algorithm name (ssh-dss, sk-ssh-ed25519@openssh.com, ...-cert-v01@openssh.com)
            // gets told it is unsupported; anything else (authorized_keys options, prose) is not a key at all.
            if (type.Contains('-', StringComparison.Ordinal) && type.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '@' or '.'))
                throw OpenSshKeys.Unsupported(type);
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: it must start with the key type ({OpenSshKeys.SupportedTypesText}).");
        }
        if (fields.Length < 2)
            throw new InvalidPublicKeyException($"Not an OpenSSH public key: the base64 key data after \"{type}\" is missing.");
        var blob = DecodeBase64(fields[1]);
        var comment = fields.Length == 3 ? fields[2] : "";
        return new UnwrappedKey(type, blob, Comment(comment));
    }

    /// <summary>
    /// RFC 4716 section 3: header lines <c>Tag: value</c> (a trailing backslash continues a line), then the
    /// base64 body, then the end marker. Only the Comment header is kept; it becomes the line's comment.
    /// </summary>
    private static UnwrappedKey FromRfc4716(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r', ' ', '\t')).ToList();
        var end = lines.IndexOf(Rfc4716End);
        if (end < 0)
            throw new InvalidPublicKeyException($"Not an SSH2 public key: the \"{Rfc4716End}\" line is missing.");
        if (end != lines.Count - 1)
            throw new InvalidPublicKeyException($"Not an SSH2 public key: there is text after \"{Rfc4716End}\".");

        var comment = "";
        var body = new StringBuilder();
        var i = 1;
        for (; i < end; i++)
        {
            var line = lines[i];
            if (!line.Contains(':', StringComparison.Ordinal))
                break;
            var header = new StringBuilder();
            while (line.EndsWith('\\') && i + 1 < end)
            {
                header.Append(line, 0, line.Length - 1);
                line = lines[++i];
            }
            header.Append(line);
            var colon = header.ToString().IndexOf(':', StringComparison.Ordinal);
            var tag = header.ToString(0, colon).Trim();
            var value = header.ToString(colon + 1, header.Length - colon - 1).Trim();
            if (tag.Equals("Comment", StringComparison.OrdinalIgnoreCase))
                comment = value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
        }
        for (; i < end; i++)
            body.Append(lines[i].Trim());
        if (body.Length == 0)
            throw new InvalidPublicKeyException("Not an SSH2 public key: the base64 key data is missing.");
        return new UnwrappedKey(null, DecodeBase64(body.ToString()), Comment(comment));
    }

    private static UnwrappedKey FromPem(string text)
    {
        if (!PemEncoding.TryFind(text, out var fields) || fields.Location.Start.Value != 0)
            throw new InvalidPublicKeyException("Not a PEM public key: the BEGIN/END lines or the base64 between them are malformed.");
        if (fields.Location.End.Value != text.Length)
            throw new InvalidPublicKeyException("Not a PEM public key: there is text after the END line.");
        var label = text[fields.Label];
        var der = Convert.FromBase64String(text[fields.Base64Data]);
        return label switch
        {
            "PUBLIC KEY" => new UnwrappedKey(null, FromSubjectPublicKeyInfo(der), ""),
            "RSA PUBLIC KEY" => new UnwrappedKey(null, FromPkcs1(der), ""),
            _ => throw new InvalidPublicKeyException($"A PEM \"{label}\" is not accepted; give the public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\"), never a private key."),
        };
    }

    private const string RsaOid = "1.2.840.113549.1.1.1";
    private const string EcOid = "1.2.840.10045.2.1";
    private const string Ed25519Oid = "1.3.101.112";

    private static byte[] FromSubjectPublicKeyInfo(byte[] der)
    {
        string algorithm;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            algorithm = spki.ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            throw new InvalidPublicKeyException("Not a PEM public key: the data inside is not a DER SubjectPublicKeyInfo.");
        }

        try
        {
            switch (algorithm)
            {
                case RsaOid:
                {
                    using var rsa = RSA.Create();
                    rsa.ImportSubjectPublicKeyInfo(der, out var read);
                    RequireAll(read, der);
                    return OpenSshKeys.RsaBlob(rsa.ExportParameters(false));
                }
                case EcOid:
                {
                    using var ecdsa = ECDsa.Create();
                    ecdsa.ImportSubjectPublicKeyInfo(der, out var read);
                    RequireAll(read, der);
                    return OpenSshKeys.EcdsaBlob(ecdsa.ExportParameters(false));
                }
                case Ed25519Oid:
                {
                    // RFC 8410: AlgorithmIdentifier without parameters, then the 32-byte key as the BIT STRING.
                    var spki = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
                    var algorithmIdentifier = spki.ReadSequence();
                    algorithmIdentifier.ReadObjectIdentifier();
                    algorithmIdentifier.ThrowIfNotEmpty();
                    var key = spki.ReadBitString(out var unused);
                    spki.ThrowIfNotEmpty();
                    if (unused != 0)
                        throw new InvalidPublicKeyException("Not a PEM public key: the Ed25519 key is not a whole number of bytes.");
                    return new SshWriter().WriteString("ssh-ed25519").WriteString(key).ToArray();
                }
                default:
                    throw new InvalidPublicKeyException($"A PEM public key of algorithm {algorithm} is not supported; use RSA, Ed25519 or ECDSA on P-256, P-384 or P-521.");
            }
        }
        catch (Exception e) when (e is CryptographicException or AsnContentException)
        {
            throw new InvalidPublicKeyException("Not a PEM public key: the key inside is malformed or not on its curve.");
        }
    }

    private static byte[] FromPkcs1(byte[] der)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportRSAPublicKey(der, out var read);
            RequireAll(read, der);
            return OpenSshKeys.RsaBlob(rsa.ExportParameters(false));
        }
        catch (CryptographicException)
        {
            throw new InvalidPublicKeyException("Not a PEM public key: the data inside is not a DER RSA public key.");
        }
    }

    private static void RequireAll(int read, byte[] der)
    {
        if (read != der.Length)
            throw new InvalidPublicKeyException($"Not a PEM public key: {der.Length - read} unexpected bytes follow the key.");
    }

    private static byte[] DecodeBase64(string base64)
    {
        var buffer = new byte[base64.Length * 3 / 4 + 3];
        if (!Convert.TryFromBase64String(base64, buffer, out var written))
            throw new InvalidPublicKeyException("Not an OpenSSH public key: the key data is not valid base64.");
        return buffer[..written];
    }

    /// <summary>
    /// The comment ends up in <c>authorized_keys</c> on every instance launched with the key, so it stays one
    /// line of text: runs of whitespace become one space, control characters are refused.
    /// </summary>
    private static string Comment(string comment)
    {
        if (comment.Any(c => char.IsControl(c) && c != '\t'))
            throw new InvalidPublicKeyException("The key's comment contains control characters.");
        return string.Join(' ', comment.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }
}
