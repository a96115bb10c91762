using System.Buffers.Binary;
using System.Text;
using CloudPortal.Compute.KeyPairs;
using Xunit;

namespace CloudPortal.Compute.Tests.KeyPairs;

/// <summary>Real ssh-keygen keys, tampered with one way each: every one is refused with a sentence that says why.</summary>
public sealed class RefusalTests(SshTools tools)
{
    private static string Refused(string publicKey) => Assert.Throws<InvalidPublicKeyException>(() => OpenSshKeys.Parse(publicKey)).Message;

    /// <summary>The fields of a key's wire blob (RFC 4251 strings and mpints alike are length-prefixed).</summary>
    private static List<byte[]> Fields(string line)
    {
        var blob = Convert.FromBase64String(line.Split(' ')[1]);
        var fields = new List<byte[]>();
        for (var i = 0; i < blob.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(i));
            fields.Add(blob[(i + 4)..(i + 4 + length)]);
            i += 4 + length;
        }
        return fields;
    }

    private static string Line(string type, params byte[][] fields) => $"{type} {Base64(fields)}";

    private static string Base64(params byte[][] fields)
    {
        var blob = new List<byte>();
        foreach (var field in fields)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)field.Length);
            blob.AddRange(length);
            blob.AddRange(field);
        }
        return Convert.ToBase64String(blob.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \r\n\t ")]
    [InlineData(" \uFEFF\n")]
    public void An_empty_key_is_refused(string text) => Assert.Equal("The public key is empty.", Refused(text));

    [Fact]
    public async Task A_key_up_to_16_KiB_is_read_and_a_longer_one_is_refused()
    {
        var line = await tools.PublicLineAsync("ed25519", 256);
        var atLimit = line + " " + new string('x', OpenSshKeys.MaxInputLength - line.Length - 1);
        Assert.Equal(OpenSshKeys.MaxInputLength, atLimit.Length);
        Assert.Equal(atLimit, OpenSshKeys.Parse(atLimit).OpenSshLine);

        Assert.Equal("The public key is 16385 characters long; at most 16384 are accepted.", Refused(atLimit + "x"));
    }

    [Fact]
    public async Task Truncated_base64_is_refused()
    {
        var fields = (await tools.PublicLineAsync("ed25519", 256)).Split(' ');

        Assert.Equal("Not an OpenSSH public key: the key data is not valid base64.", Refused($"{fields[0]} {fields[1][..^1]}"));
        Assert.Equal("Not an OpenSSH public key: the key data is truncated.", Refused($"{fields[0]} {fields[1][..^8]}"));
        Assert.Equal("Not an OpenSSH public key: the base64 key data after \"ssh-ed25519\" is missing.", Refused(fields[0]));
    }

    [Fact]
    public async Task Base64_with_garbage_glued_on_is_refused()
    {
        var fields = (await tools.PublicLineAsync("rsa", 2048)).Split(' ');

        Assert.Equal("Not an OpenSSH public key: the key data is not valid base64.", Refused($"{fields[0]} {fields[1]}!!"));
    }

    [Fact]
    public async Task A_line_whose_type_differs_from_its_key_data_is_refused()
    {
        var ed25519 = (await tools.PublicLineAsync("ed25519", 256)).Split(' ');
        var ecdsa = (await tools.PublicLineAsync("ecdsa", 384)).Split(' ');

        Assert.Equal("Not an OpenSSH public key: the line says \"ssh-rsa\" but the key data is \"ssh-ed25519\".", Refused($"ssh-rsa {ed25519[1]}"));
        Assert.Equal("Not an OpenSSH public key: the line says \"ecdsa-sha2-nistp256\" but the key data is \"ecdsa-sha2-nistp384\".", Refused($"ecdsa-sha2-nistp256 {ecdsa[1]}"));
    }

    [Fact]
    public async Task Bytes_after_the_key_inside_the_key_data_are_refused()
    {
        var line = await tools.PublicLineAsync("ed25519", 256);
        var blob = Convert.FromBase64String(line.Split(' ')[1]).Concat(new byte[] { 0, 0, 0 }).ToArray();

        Assert.Equal("Not an OpenSSH public key: the key data has 3 unexpected bytes after the key.", Refused($"ssh-ed25519 {Convert.ToBase64String(blob)}"));
    }

    [Fact]
    public async Task A_1024_bit_rsa_key_is_refused()
    {
        SshTools.Require();
        var path = await tools.KeyAsync("rsa", 1024);

        Assert.Equal("RSA keys must be at least 2048 bits; this one has 1024.", Refused(await File.ReadAllTextAsync(path + ".pub")));
    }

    [Fact]
    public async Task An_rsa_modulus_over_16384_bits_is_refused()
    {
        var fields = Fields(await tools.PublicLineAsync("rsa", 2048));
        var modulus = new byte[2049]; // 2^16384 + 1: 16385 bits, odd, no sign byte needed
        modulus[0] = 0x01;
        modulus[^1] = 0x01;

        Assert.Equal("RSA keys may have at most 16384 bits; this one has 16385.", Refused(Line("ssh-rsa", fields[0], fields[1], modulus)));
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x00, 0x00 })]             // even
    [InlineData(new byte[] { 0x01 })]                         // one
    [InlineData(new byte[] { 0x01, 0x00, 0x00, 0x00, 0x01 })] // above 2^31
    public async Task An_rsa_key_with_an_insane_exponent_is_refused(byte[] exponent)
    {
        var fields = Fields(await tools.PublicLineAsync("rsa", 2048));

        Assert.Equal("The RSA public exponent must be an odd number from 3 to 2147483647 (usually 65537).", Refused(Line("ssh-rsa", fields[0], exponent, fields[2])));
    }

    [Fact]
    public async Task Rsa_numbers_must_be_positive_and_minimally_encoded()
    {
        var fields = Fields(await tools.PublicLineAsync("rsa", 2048));
        var modulus = fields[2];
        Assert.Equal(0, modulus[0]); // a 2048-bit modulus needs the sign byte

        Assert.Equal("The RSA modulus is negative.", Refused(Line("ssh-rsa", fields[0], fields[1], modulus[1..])));
        Assert.Equal("Not an OpenSSH public key: the RSA modulus has superfluous leading zero bytes.", Refused(Line("ssh-rsa", fields[0], fields[1], [0, .. modulus])));
        Assert.Equal("The RSA exponent is zero.", Refused(Line("ssh-rsa", fields[0], [], modulus)));
    }

    [Fact]
    public async Task An_even_rsa_modulus_is_refused()
    {
        var fields = Fields(await tools.PublicLineAsync("rsa", 2048));
        var modulus = fields[2].ToArray();
        modulus[^1] &= 0xfe;

        Assert.Equal("The RSA modulus is even, so it is not a product of two primes.", Refused(Line("ssh-rsa", fields[0], fields[1], modulus)));
    }

    [Theory]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(0)]
    public async Task An_ed25519_key_of_the_wrong_length_is_refused(int length)
    {
        var fields = Fields(await tools.PublicLineAsync("ed25519", 256));
        var key = new byte[length];
        fields[1].AsSpan(0, Math.Min(length, 32)).CopyTo(key);

        Assert.Equal($"Ed25519 keys must be exactly 32 bytes; this one has {length}.", Refused(Line("ssh-ed25519", fields[0], key)));
    }

    [Fact]
    public async Task An_ed25519_key_that_is_not_a_curve_point_is_refused()
    {
        var fields = Fields(await tools.PublicLineAsync("ed25519", 256));
        // y = 2^255 - 254 (little-endian), above the field prime 2^255 - 19: no point is encoded so.
        var key = Enumerable.Repeat((byte)0xff, 32).ToArray();
        key[0] = 0x02;
        key[31] = 0x7f;

        Assert.Equal("The Ed25519 key is not a point on the curve.", Refused(Line("ssh-ed25519", fields[0], key)));
    }

    [Theory]
    [InlineData(256)]
    [InlineData(384)]
    [InlineData(521)]
    public async Task An_ecdsa_point_off_its_curve_is_refused(int bits)
    {
        var fields = Fields(await tools.PublicLineAsync("ecdsa", bits));
        var point = fields[2].ToArray();
        point[^1] ^= 0x01; // y changed, x kept: y² ≠ x³ - 3x + b

        Assert.Equal($"The ECDSA key's point is not on the nistp{bits} curve.", Refused(Line($"ecdsa-sha2-nistp{bits}", fields[0], fields[1], point)));
    }

    [Fact]
    public async Task A_compressed_or_short_ecdsa_point_and_a_curve_that_contradicts_the_type_are_refused()
    {
        var fields = Fields(await tools.PublicLineAsync("ecdsa", 256));
        var compressed = new byte[33];
        compressed[0] = (byte)(0x02 | (fields[2][^1] & 1));
        fields[2].AsSpan(1, 32).CopyTo(compressed.AsSpan(1));

        Assert.Equal("The ECDSA key must be an uncompressed nistp256 point of 65 bytes; this one is 33 bytes and not uncompressed.", Refused(Line("ecdsa-sha2-nistp256", fields[0], fields[1], compressed)));
        Assert.Equal("The ECDSA key must be an uncompressed nistp256 point of 65 bytes; this one is 64 bytes.", Refused(Line("ecdsa-sha2-nistp256", fields[0], fields[1], fields[2][..^1])));
        Assert.Equal("Not an OpenSSH public key: the key type names nistp256 but the key data names the curve \"nistp384\".", Refused(Line("ecdsa-sha2-nistp256", fields[0], "nistp384"u8.ToArray(), fields[2])));
    }

    [Theory]
    [InlineData("ssh-dss")]
    [InlineData("sk-ssh-ed25519@openssh.com")]
    [InlineData("ssh-ed25519-cert-v01@openssh.com")]
    [InlineData("ecdsa-sha2-nistp224")]
    public void Unsupported_key_types_are_named_in_the_refusal(string type)
    {
        Assert.Equal($"Key type \"{type}\" is not supported; use ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521.",
            Refused($"{type} AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7 user@host"));
    }

    [Fact]
    public void Key_data_of_an_unsupported_type_under_a_supported_name_is_refused()
    {
        Assert.Equal("Not an OpenSSH public key: the line says \"ssh-rsa\" but the key data is \"ssh-dss\".", Refused(Line("ssh-rsa", "ssh-dss"u8.ToArray(), [1], [2])));
        Assert.Equal("Key type \"ssh-dss\" is not supported; use ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521.",
            Refused("---- BEGIN SSH2 PUBLIC KEY ----\n" + Base64("ssh-dss"u8.ToArray(), [1]) + "\n---- END SSH2 PUBLIC KEY ----"));
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("from=\"10.0.0.1\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAIKMH/i4tLmvE1Ri6ahC2jtbf58cF0MqdedsMxGAPMd")]
    [InlineData("AAAAC3NzaC1lZDI1NTE5AAAAIAIKMH/i4tLmvE1Ri6ahC2jtbf58cF0MqdedsMxGAPMd")]
    public void Text_that_does_not_start_with_a_key_type_is_refused(string text)
    {
        Assert.Equal("Not an OpenSSH public key: it must start with the key type (ssh-rsa, ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384 or ecdsa-sha2-nistp521).", Refused(text));
    }

    [Fact]
    public async Task Two_keys_are_refused()
    {
        var text = await tools.PublicLineAsync("ed25519", 256) + "\n" + await tools.PublicLineAsync("rsa", 2048) + "\n";

        Assert.Equal("The public key must be a single line (\"ssh-ed25519 AAAA... comment\"); this one has 2 lines.", Refused(text));
    }

    [Fact]
    public async Task A_comment_with_control_characters_is_refused()
    {
        var line = await tools.PublicLineAsync("ed25519", 256);

        Assert.Equal("The key's comment contains control characters.", Refused(line + " evil\u001b[2Jcomment"));
        Assert.Equal("The key's comment contains control characters.", Refused(line + " one\rtwo"));
    }

    [Fact]
    public async Task Rfc4716_without_its_end_line_or_with_text_after_it_is_refused()
    {
        SshTools.Require();
        var path = await tools.KeyAsync("ed25519", 256);
        var rfc4716 = SshTools.Text(await SshTools.RunAsync(SshTools.SshKeygen, ["-e", "-f", path + ".pub"]));

        Assert.Equal("Not an SSH2 public key: there is text after \"---- END SSH2 PUBLIC KEY ----\".", Refused(rfc4716 + "\nssh-rsa AAAA"));
        Assert.Equal("Not an SSH2 public key: the \"---- END SSH2 PUBLIC KEY ----\" line is missing.", Refused(rfc4716[..rfc4716.LastIndexOf('\n')]));
        var lines = rfc4716.Split('\n');
        Assert.Equal("Not an SSH2 public key: the base64 key data is missing.", Refused(string.Join('\n', lines.Where(l => !l.StartsWith("AAAA", StringComparison.Ordinal)))));
    }

    [Fact]
    public async Task Pem_with_text_after_it_a_private_key_or_malformed_content_is_refused()
    {
        SshTools.Require();
        var path = await tools.KeyAsync("rsa", 2048);
        var pem = SshTools.Text(await SshTools.RunAsync(SshTools.SshKeygen, ["-e", "-m", "PKCS8", "-f", path + ".pub"]));

        Assert.Equal("Not a PEM public key: there is text after the END line.", Refused(pem + "\ntrailing"));
        Assert.Equal("A PEM \"OPENSSH PRIVATE KEY\" is not accepted; give the public key (\"PUBLIC KEY\" or \"RSA PUBLIC KEY\"), never a private key.",
            Refused(await File.ReadAllTextAsync(path)));
        Assert.Equal("Not a PEM public key: the data inside is not a DER SubjectPublicKeyInfo.",
            Refused("-----BEGIN PUBLIC KEY-----\n" + Convert.ToBase64String(Encoding.ASCII.GetBytes("not DER at all")) + "\n-----END PUBLIC KEY-----"));
        Assert.Equal("Not a PEM public key: the BEGIN/END lines or the base64 between them are malformed.", Refused("-----BEGIN PUBLIC KEY-----\nAAAA"));
    }
}
