using CloudPortal.Compute.KeyPairs;
using Xunit;

namespace CloudPortal.Compute.Tests.KeyPairs;

/// <summary>Generated key pairs are read by ssh-keygen, sign with their private half, and carry EC2's fingerprints.</summary>
public sealed class GenerateTests(SshTools tools)
{
    [Theory]
    [InlineData(KeyType.Rsa, "-----BEGIN RSA PRIVATE KEY-----\n", "-----END RSA PRIVATE KEY-----\n")]
    [InlineData(KeyType.Ed25519, "-----BEGIN OPENSSH PRIVATE KEY-----\n", "-----END OPENSSH PRIVATE KEY-----\n")]
    public async Task Ssh_keygen_derives_exactly_our_public_line_from_the_private_key(KeyType type, string begin, string end)
    {
        SshTools.Require();
        var pair = OpenSshKeys.Generate(type);
        Assert.StartsWith(begin, pair.PrivateKey);
        Assert.EndsWith(end, pair.PrivateKey);
        var path = tools.Write($"generated-{type}-{Guid.NewGuid():N}", pair.PrivateKey);

        var derived = SshTools.Text(await SshTools.RunAsync(SshTools.SshKeygen, ["-y", "-f", path]));

        Assert.Equal(pair.Public.OpenSshLine, derived);
        Assert.Equal(type, pair.Public.Type);
        Assert.Equal(pair.Public, OpenSshKeys.Parse(derived));
    }

    [Theory]
    [InlineData(KeyType.Rsa)]
    [InlineData(KeyType.Ed25519)]
    public async Task The_private_key_signs_what_its_public_key_verifies(KeyType type)
    {
        // ssh-keygen -y may read an OpenSSH key's public half from the file's clear header; a signature needs the
        // secret, so this proves the secret belongs to the public key.
        SshTools.Require();
        var pair = OpenSshKeys.Generate(type);
        var key = tools.Write($"signer-{type}-{Guid.NewGuid():N}", pair.PrivateKey);
        // For a PEM key ssh-keygen -Y sign takes the public half from key.pub.
        tools.Write(Path.GetFileName(key) + ".pub", pair.Public.OpenSshLine + "\n");
        var message = tools.Write($"message-{type}-{Guid.NewGuid():N}", "launch i-0123456789abcdef0\n");
        var signers = tools.Write($"signers-{type}-{Guid.NewGuid():N}", $"tenant@example.com {pair.Public.OpenSshLine}\n");

        await SshTools.RunAsync(SshTools.SshKeygen, ["-Y", "sign", "-f", key, "-n", "cloudportal-test", message]);
        var verified = await SshTools.RunAsync(SshTools.SshKeygen,
            ["-Y", "verify", "-f", signers, "-I", "tenant@example.com", "-n", "cloudportal-test", "-s", message + ".sig"],
            File.ReadAllBytes(message));

        Assert.Contains("Good \"cloudportal-test\" signature for tenant@example.com", SshTools.Text(verified));
    }

    [Fact]
    public async Task A_generated_rsa_key_is_2048_bits_with_the_fingerprints_of_the_ec2_user_guide_commands()
    {
        SshTools.Require();
        var pair = OpenSshKeys.Generate(KeyType.Rsa);
        var path = tools.Write($"generated-rsa-{Guid.NewGuid():N}.pem", pair.PrivateKey);

        Assert.Equal(2048, pair.Public.Bits);
        Assert.Equal(2048, (await SshTools.FingerprintAsync(path, "sha256")).Bits);
        // Created by EC2: openssl pkcs8 -in key -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c
        var pkcs8 = await SshTools.RunAsync(SshTools.OpenSsl, ["pkcs8", "-in", path, "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt"]);
        Assert.Equal(await SshTools.OpenSslDigestAsync("sha1", pkcs8), pair.Fingerprint);
        Assert.Matches("^([0-9a-f]{2}:){19}[0-9a-f]{2}$", pair.Fingerprint);
        // The same public key imported: openssl rsa -in key -pubout -outform DER | openssl md5 -c
        var spki = await SshTools.RunAsync(SshTools.OpenSsl, ["rsa", "-in", path, "-pubout", "-outform", "DER"]);
        Assert.Equal(await SshTools.OpenSslDigestAsync("md5", spki), pair.Public.Fingerprint);
    }

    [Fact]
    public async Task A_generated_ed25519_key_has_ssh_keygens_sha256_fingerprint_padded_for_both_created_and_imported()
    {
        SshTools.Require();
        var pair = OpenSshKeys.Generate(KeyType.Ed25519);
        var path = tools.Write($"generated-ed25519-{Guid.NewGuid():N}", pair.PrivateKey);

        var (bits, fingerprint) = await SshTools.FingerprintAsync(path, "sha256");

        Assert.Equal(256, bits);
        Assert.Equal(256, pair.Public.Bits);
        Assert.Equal(fingerprint + "=", pair.Fingerprint);
        Assert.Equal(pair.Fingerprint, pair.Public.Fingerprint);
    }

    [Theory]
    [InlineData(KeyType.Rsa)]
    [InlineData(KeyType.Ed25519)]
    public void Every_generated_key_is_new(KeyType type)
    {
        var first = OpenSshKeys.Generate(type);
        var second = OpenSshKeys.Generate(type);

        Assert.NotEqual(first.Public.OpenSshLine, second.Public.OpenSshLine);
        Assert.NotEqual(first.PrivateKey, second.PrivateKey);
        Assert.NotEqual(first.Fingerprint, second.Fingerprint);
    }

    [Fact]
    public void Ecdsa_is_not_offered_for_generation()
    {
        var refused = Assert.Throws<ArgumentException>(() => OpenSshKeys.Generate(KeyType.Ecdsa));
        Assert.Equal("type", refused.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenSshKeys.Generate((KeyType)42));
    }
}
