using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>A fresh RSA public key as one OpenSSH line (<c>ssh-rsa AAAA… comment</c>), what ImportKeyPair takes.</summary>
public static class OpenSshKey
{
    public static string NewRsaPublicKey(string comment = "ec2-tests") => NewRsa(comment).Line;

    /// <summary>
    /// The OpenSSH line and the fingerprint EC2 gives an imported RSA key: MD5 of the DER SubjectPublicKeyInfo, as the EC2
    /// User Guide verifies it (<c>openssl rsa -pubout -outform DER | openssl md5 -c</c>), not MD5 of the SSH blob.
    /// </summary>
    public static (string Line, string Ec2Fingerprint) NewRsa(string comment = "ec2-tests")
    {
        using var rsa = RSA.Create(2048);
#pragma warning disable CA5351 // MD5 names the key the way EC2 does; it protects nothing.
        var fingerprint = string.Join(':', MD5.HashData(rsa.ExportSubjectPublicKeyInfo()).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
#pragma warning restore CA5351
        return (Line(rsa, comment), fingerprint);
    }

    private static string Line(RSA rsa, string comment)
    {
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        using var blob = new MemoryStream();
        WriteString(blob, Encoding.ASCII.GetBytes("ssh-rsa"));
        WriteString(blob, MpInt(parameters.Exponent!));
        WriteString(blob, MpInt(parameters.Modulus!));
        return $"ssh-rsa {Convert.ToBase64String(blob.ToArray())} {comment}";
    }

    private static byte[] MpInt(byte[] unsigned)
    {
        var start = 0;
        while (start < unsigned.Length - 1 && unsigned[start] == 0)
            start++;
        var trimmed = unsigned[start..];
        return (trimmed[0] & 0x80) != 0 ? [0, .. trimmed] : trimmed;
    }

    private static void WriteString(Stream stream, byte[] value)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, value.Length);
        stream.Write(length);
        stream.Write(value);
    }
}
