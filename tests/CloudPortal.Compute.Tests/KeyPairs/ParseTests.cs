using CloudPortal.Compute.KeyPairs;
using Xunit;

namespace CloudPortal.Compute.Tests.KeyPairs;

/// <summary>Keys made by ssh-keygen parse to the line, size and fingerprint that ssh-keygen, openssl and EC2 give them.</summary>
public sealed class ParseTests(SshTools tools)
{
    public static TheoryData<string, int, KeyType> AllKeys => new()
    {
        { "rsa", 2048, KeyType.Rsa },
        { "rsa", 3072, KeyType.Rsa },
        { "rsa", 4096, KeyType.Rsa },
        { "ed25519", 256, KeyType.Ed25519 },
        { "ecdsa", 256, KeyType.Ecdsa },
        { "ecdsa", 384, KeyType.Ecdsa },
        { "ecdsa", 521, KeyType.Ecdsa },
    };

    public static TheoryData<string, int> NonRsaKeys => new() { { "ed25519", 256 }, { "ecdsa", 256 }, { "ecdsa", 384 }, { "ecdsa", 521 } };

    public static TheoryData<int> RsaSizes => [2048, 3072, 4096];

    [Theory]
    [MemberData(nameof(AllKeys))]
    public async Task An_ssh_keygen_public_key_parses_to_its_own_line_with_the_size_ssh_keygen_reports(string type, int bits, KeyType expected)
    {
        var path = await tools.KeyAsync(type, bits);
        var line = await tools.PublicLineAsync(type, bits);

        var info = OpenSshKeys.Parse(line);

        Assert.Equal(expected, info.Type);
        Assert.Equal(line, info.OpenSshLine);
        Assert.Equal((await SshTools.FingerprintAsync(path + ".pub", "sha256")).Bits, info.Bits);
        Assert.Equal(bits, info.Bits);
    }

    [Theory]
    [MemberData(nameof(NonRsaKeys))]
    public async Task Ed25519_and_ecdsa_fingerprints_are_ssh_keygens_sha256_with_the_padding_ec2_keeps(string type, int bits)
    {
        var path = await tools.KeyAsync(type, bits);

        var info = OpenSshKeys.Parse(await tools.PublicLineAsync(type, bits));

        // ssh-keygen drops base64's padding; EC2 shows it (a SHA-256 is 32 bytes: 43 characters and one "=").
        Assert.Equal((await SshTools.FingerprintAsync(path + ".pub", "sha256")).Fingerprint + "=", info.Fingerprint);
    }

    [Theory]
    [MemberData(nameof(RsaSizes))]
    public async Task An_imported_rsa_fingerprint_is_the_md5_of_the_der_public_key_as_the_ec2_user_guide_computes_it(int bits)
    {
        var path = await tools.KeyAsync("rsa", bits);

        var info = OpenSshKeys.Parse(await tools.PublicLineAsync("rsa", bits));

        // The User Guide's command for an imported OpenSSH key:
        // ssh-keygen -ef key -m PEM | openssl rsa -RSAPublicKey_in -outform DER | openssl md5 -c
        var pkcs1 = await SshTools.RunAsync(SshTools.SshKeygen, ["-e", "-f", path + ".pub", "-m", "PEM"]);
        var der = await SshTools.RunAsync(SshTools.OpenSsl, ["rsa", "-RSAPublicKey_in", "-outform", "DER"], pkcs1);
        Assert.Equal(await SshTools.OpenSslDigestAsync("md5", der), info.Fingerprint);
        // ... which is not OpenSSH's MD5 over the wire blob, whatever the API reference's mention of RFC 4716 suggests.
        Assert.NotEqual((await SshTools.FingerprintAsync(path + ".pub", "md5")).Fingerprint, info.Fingerprint);
        Assert.Matches("^([0-9a-f]{2}:){15}[0-9a-f]{2}$", info.Fingerprint);
    }

    [Theory]
    [MemberData(nameof(AllKeys))]
    public async Task A_line_with_odd_spacing_is_normalised_and_ssh_keygen_reads_the_same_key_from_it(string type, int bits, KeyType expected)
    {
        var path = await tools.KeyAsync(type, bits);
        var fields = (await tools.PublicLineAsync(type, bits)).Split(' ');
        var messy = $"\uFEFF  {fields[0]}\t \t{fields[1]}   my \t laptop  key\r\n\r\n";

        var info = OpenSshKeys.Parse(messy);

        Assert.Equal(expected, info.Type);
        Assert.Equal($"{fields[0]} {fields[1]} my laptop key", info.OpenSshLine);
        var normalised = tools.Write($"normalised-{type}{bits}.pub", info.OpenSshLine + "\n");
        Assert.Equal(await SshTools.FingerprintAsync(path + ".pub", "sha256"), await SshTools.FingerprintAsync(normalised, "sha256"));
    }

    [Fact]
    public async Task A_key_without_a_comment_keeps_none()
    {
        var fields = (await tools.PublicLineAsync("ed25519", 256)).Split(' ');

        Assert.Equal($"{fields[0]} {fields[1]}", OpenSshKeys.Parse($"{fields[0]} {fields[1]}").OpenSshLine);
    }

    [Theory]
    [MemberData(nameof(AllKeys))]
    public async Task An_rfc4716_key_from_ssh_keygen_e_is_the_same_key_with_its_comment_header_as_comment(string type, int bits, KeyType expected)
    {
        var path = await tools.KeyAsync(type, bits);
        var rfc4716 = SshTools.Text(await SshTools.RunAsync(SshTools.SshKeygen, ["-e", "-f", path + ".pub"]));
        Assert.StartsWith("---- BEGIN SSH2 PUBLIC KEY ----", rfc4716);

        var info = OpenSshKeys.Parse(rfc4716);
        var line = OpenSshKeys.Parse(await tools.PublicLineAsync(type, bits));

        Assert.Equal(expected, info.Type);
        Assert.Equal(line.Fingerprint, info.Fingerprint);
        var comment = rfc4716.Split('\n').Single(l => l.StartsWith("Comment: ", StringComparison.Ordinal))["Comment: ".Length..].Trim('"');
        Assert.Equal(string.Join(' ', line.OpenSshLine.Split(' ')[..2]) + " " + comment, info.OpenSshLine);
    }

    [Fact]
    public async Task An_rfc4716_key_with_continued_and_unknown_headers_and_crlf_line_ends_parses()
    {
        var line = await tools.PublicLineAsync("rsa", 2048);
        var base64 = line.Split(' ')[1];
        var body = string.Join("\r\n", base64.Chunk(64).Select(c => new string(c)));
        var text = "\uFEFF---- BEGIN SSH2 PUBLIC KEY ----\r\n" +
                   "x-command: /usr/local/bin/only-\\\r\nthis\r\n" +
                   "Comment: This is my public key for use on \\\r\nservers which I don't like.\r\n" +
                   body + "\r\n---- END SSH2 PUBLIC KEY ----\r\n";

        var info = OpenSshKeys.Parse(text);

        Assert.Equal($"ssh-rsa {base64} This is my public key for use on servers which I don't like.", info.OpenSshLine);
    }

    [Theory]
    [InlineData("rsa", 2048, "PKCS8")]
    [InlineData("rsa", 4096, "PEM")]
    [InlineData("ecdsa", 256, "PKCS8")]
    [InlineData("ecdsa", 384, "PKCS8")]
    [InlineData("ecdsa", 521, "PKCS8")]
    public async Task A_pem_public_key_from_ssh_keygen_e_is_the_same_key_without_a_comment(string type, int bits, string format)
    {
        var path = await tools.KeyAsync(type, bits);
        var pem = SshTools.Text(await SshTools.RunAsync(SshTools.SshKeygen, ["-e", "-m", format, "-f", path + ".pub"]));
        Assert.StartsWith(format == "PEM" ? "-----BEGIN RSA PUBLIC KEY-----" : "-----BEGIN PUBLIC KEY-----", pem);

        var info = OpenSshKeys.Parse(pem);
        var line = OpenSshKeys.Parse(await tools.PublicLineAsync(type, bits));

        Assert.Equal(string.Join(' ', line.OpenSshLine.Split(' ')[..2]), info.OpenSshLine);
        Assert.Equal(line.Fingerprint, info.Fingerprint);
        Assert.Equal(line.Bits, info.Bits);
    }

    [Fact]
    public async Task An_ed25519_pem_public_key_from_openssl_is_accepted_and_ssh_keygen_reads_the_line_made_of_it()
    {
        SshTools.Require();
        var privateKey = await SshTools.RunAsync(SshTools.OpenSsl, ["genpkey", "-algorithm", "ed25519"]);
        var pem = SshTools.Text(await SshTools.RunAsync(SshTools.OpenSsl, ["pkey", "-pubout"], privateKey));
        var der = await SshTools.RunAsync(SshTools.OpenSsl, ["pkey", "-pubout", "-outform", "DER"], privateKey);

        var info = OpenSshKeys.Parse(pem);

        Assert.Equal(KeyType.Ed25519, info.Type);
        var blob = Convert.FromBase64String(info.OpenSshLine.Split(' ')[1]);
        Assert.Equal(der[^32..], blob[^32..]);
        var written = tools.Write("from-openssl-ed25519.pub", info.OpenSshLine + "\n");
        Assert.Equal(info.Fingerprint, (await SshTools.FingerprintAsync(written, "sha256")).Fingerprint + "=");
    }
}
