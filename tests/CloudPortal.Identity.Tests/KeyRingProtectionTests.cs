using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml.Linq;
using CloudPortal.Testing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// ADR 0013: the Data Protection key ring in Identity's database is encrypted with a key-encryption key kept outside
/// it, so a copy of the database alone reveals no EC2 secret.
/// </summary>
public sealed class KeyRingProtectionTests
{
    private const string SecretsPurpose = "CloudPortal.Identity.Ec2Secrets.v1";

    [Fact]
    public async Task A_copy_of_the_database_without_the_key_encryption_key_reveals_no_access_key_secret()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        using var created = await member.PostAsync($"identity/v1/projects/{tenants.ProjectA}/access-keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var accessKeyId = key.GetProperty("accessKeyId").GetString()!;
        var secret = key.GetProperty("secretAccessKey").GetString()!;

        var copy = CopyDatabase(Path.Combine(cloud.Deployment.DataDir, "identity.db"), cloud.Deployment.NewDirectory());
        var (keyRing, protectedSecret) = await ReadAsync(copy, accessKeyId);

        // (a) Every key's master key is stored encrypted: no plaintext <masterKey> element, an <encryptedSecret> instead.
        Assert.NotEmpty(keyRing);
        foreach (var xml in keyRing)
        {
            var element = XElement.Parse(xml);
            Assert.DoesNotContain(element.Descendants(), e => e.Name.LocalName == "masterKey");
            Assert.Single(element.Descendants(), e => e.Name.LocalName == "encryptedSecret");
        }

        // (b) The database's key ring alone cannot unprotect the stored secret; with the key-encryption key it can.
        var ringDirectory = WriteKeyRing(keyRing, cloud.Deployment.NewDirectory());
        var withoutKek = DataProtectionProvider.Create(new DirectoryInfo(ringDirectory), b => b.SetApplicationName("cloudportal"));
        Assert.ThrowsAny<CryptographicException>(() => withoutKek.CreateProtector(SecretsPurpose).Unprotect(protectedSecret));

        using var kek = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(cloud.Deployment.DataDir, "identity-keys", "key-encryption.pfx"), null);
        var withKek = DataProtectionProvider.Create(new DirectoryInfo(WriteKeyRing(keyRing, cloud.Deployment.NewDirectory())),
            b => b.SetApplicationName("cloudportal").UnprotectKeysWithAnyCertificate(kek));
        Assert.Equal(secret, withKek.CreateProtector(SecretsPurpose).Unprotect(protectedSecret));

        // (c) The key-encryption key file is its owner's alone, and Data Protection no longer warns of plaintext keys.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite,
            File.GetUnixFileMode(Path.Combine(cloud.Deployment.DataDir, "identity-keys", "key-encryption.pfx")));
        Assert.DoesNotContain("No XML encryptor configured", cloud.IdentityProcess.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rewrap_encrypts_keys_stored_before_the_kek_and_moves_every_key_to_a_new_kek()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        var key = await (await member.PostAsync($"identity/v1/projects/{tenants.ProjectA}/access-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var accessKeyId = key.GetProperty("accessKeyId").GetString()!;
        var secret = key.GetProperty("secretAccessKey").GetString()!;
        var database = Path.Combine(cloud.Deployment.DataDir, "identity.db");
        var firstKek = Path.Combine(cloud.Deployment.DataDir, "identity-keys", "key-encryption.pfx");

        // An install from before the KEK: a key stored in plaintext, and a secret that only that key reads.
        var legacyDirectory = cloud.Deployment.NewDirectory();
        var legacy = DataProtectionProvider.Create(new DirectoryInfo(legacyDirectory), b => b.SetApplicationName("cloudportal"));
        var legacySecret = legacy.CreateProtector(SecretsPurpose).Protect("legacy secret");
        var legacyKey = File.ReadAllText(Directory.GetFiles(legacyDirectory, "key-*.xml").Single());
        Assert.Contains("<masterKey", legacyKey, StringComparison.Ordinal);
        await using (var connection = Open(database))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO DataProtectionKeys (FriendlyName, Xml) VALUES ('legacy', $xml)";
            insert.Parameters.AddWithValue("$xml", legacyKey);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        var rewrap = await CloudPortalProcess.RunAsync(["admin", "rewrap-keys", "--data-dir", cloud.Deployment.DataDir], cloud.Environment());
        Assert.True(rewrap.ExitCode == 0, rewrap.Output);
        Assert.Contains("2 of 2 key(s) wrapped", rewrap.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(1 were stored unencrypted)", rewrap.StandardOutput, StringComparison.Ordinal);
        var (ring, protectedSecret) = await ReadAsync(CopyDatabase(database, cloud.Deployment.NewDirectory()), accessKeyId);
        Assert.All(ring, xml => Assert.DoesNotContain("masterKey", xml, StringComparison.Ordinal));
        using (var first = X509CertificateLoader.LoadPkcs12FromFile(firstKek, null))
        {
            var reader = Provider(ring, cloud.Deployment.NewDirectory(), first);
            Assert.Equal("legacy secret", reader.CreateProtector(SecretsPurpose).Unprotect(legacySecret));
            Assert.Equal(secret, reader.CreateProtector(SecretsPurpose).Unprotect(protectedSecret));
        }

        // Rotation: a new KEK, the first one retired; after the rewrap the new one alone reads every key.
        var secondKek = Path.Combine(cloud.Deployment.NewDirectory(), "kek-2.pfx");
        var created = await CloudPortalProcess.RunAsync(["admin", "new-key-encryption-key", secondKek], cloud.Environment());
        Assert.True(created.ExitCode == 0, created.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(secondKek));
        var rotated = cloud.Environment();
        rotated["CloudPortal__Identity__KeyEncryptionKeyFile"] = secondKek;
        rotated["CloudPortal__Identity__RetiredKeyEncryptionKeyFiles__0"] = firstKek;
        rewrap = await CloudPortalProcess.RunAsync(["admin", "rewrap-keys", "--data-dir", cloud.Deployment.DataDir], rotated);
        Assert.True(rewrap.ExitCode == 0, rewrap.Output);
        Assert.Contains("2 of 2 key(s) wrapped", rewrap.StandardOutput, StringComparison.Ordinal);
        (ring, _) = await ReadAsync(CopyDatabase(database, cloud.Deployment.NewDirectory()), accessKeyId);
        using (var second = X509CertificateLoader.LoadPkcs12FromFile(secondKek, null))
        {
            var reader = Provider(ring, cloud.Deployment.NewDirectory(), second);
            Assert.Equal("legacy secret", reader.CreateProtector(SecretsPurpose).Unprotect(legacySecret));
            Assert.Equal(secret, reader.CreateProtector(SecretsPurpose).Unprotect(protectedSecret));
        }
        using (var first = X509CertificateLoader.LoadPkcs12FromFile(firstKek, null))
        {
            var old = Provider(ring, cloud.Deployment.NewDirectory(), first);
            Assert.ThrowsAny<CryptographicException>(() => old.CreateProtector(SecretsPurpose).Unprotect(protectedSecret));
        }
    }

    private static IDataProtectionProvider Provider(IEnumerable<string> keyRing, string directory, X509Certificate2 kek) =>
        DataProtectionProvider.Create(new DirectoryInfo(WriteKeyRing(keyRing, directory)), b => b.SetApplicationName("cloudportal").UnprotectKeysWithAnyCertificate(kek));

    private static string CopyDatabase(string database, string directory)
    {
        var copy = Path.Combine(directory, "identity.db");
        using var source = Open(database);
        using var target = new SqliteConnection($"Data Source={copy}");
        source.Open();
        target.Open();
        source.BackupDatabase(target);
        return copy;
    }

    private static SqliteConnection Open(string database) => new($"Data Source={database};Default Timeout=30;Pooling=False");

    private static async Task<(List<string> KeyRing, string ProtectedSecret)> ReadAsync(string database, string accessKeyId)
    {
        await using var connection = Open(database);
        await connection.OpenAsync();
        var ring = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT Xml FROM DataProtectionKeys";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                ring.Add(reader.GetString(0));
        }
        await using var secret = connection.CreateCommand();
        secret.CommandText = "SELECT ProtectedSecret FROM ec2_access_keys WHERE AccessKeyId = $id";
        secret.Parameters.AddWithValue("$id", accessKeyId);
        return (ring, (string)(await secret.ExecuteScalarAsync())!);
    }

    /// <summary>The rows as a file-system key ring, the form <see cref="DataProtectionProvider.Create(DirectoryInfo)"/> reads.</summary>
    private static string WriteKeyRing(IEnumerable<string> keyRing, string directory)
    {
        foreach (var xml in keyRing)
            File.WriteAllText(Path.Combine(directory, $"key-{XElement.Parse(xml).Attribute("id")!.Value}.xml"), xml);
        return directory;
    }
}
