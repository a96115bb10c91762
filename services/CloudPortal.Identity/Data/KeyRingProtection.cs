using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.DataProtection;

namespace CloudPortal.Identity.Data;

/// <summary>
/// The key-encryption key (KEK) of the Data Protection key ring (ADR 0013). The ring lives in Identity's database
/// beside the EC2 secrets it protects, so its master keys are encrypted with an X.509 certificate kept outside the
/// database: a database dump alone reveals no secret. The certificate is a PKCS#12 file readable only by its owner,
/// created on first start when absent, or given in configuration (a mounted secret file, or the PFX itself in
/// base64) so that every replica uses the same one. Retired certificates stay configured to read the keys they
/// protected until <c>cloudportal admin rewrap-keys</c> (<see cref="KeyRingRewrap"/>) has wrapped them with the current one.
/// </summary>
public static class KeyRingProtection
{
    public const string DefaultFileName = "key-encryption.pfx";

    public static IDataProtectionBuilder ProtectKeysWithKeyEncryptionKey(this IDataProtectionBuilder builder, IdentityModuleOptions options, string keysDirectory)
    {
        var current = Current(options, keysDirectory);
        builder.ProtectKeysWithCertificate(current);
        // The certificates are given, not looked up in an X509 store (there is none to rely on on Linux): the current
        // one for its own keys, the retired ones for keys written before a rotation.
        builder.UnprotectKeysWithAnyCertificate([current, .. Retired(options)]);
        return builder;
    }

    /// <summary>The certificate that protects new keys: the configured value, the configured file, or the default file (created when absent).</summary>
    public static X509Certificate2 Current(IdentityModuleOptions options, string keysDirectory)
    {
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey))
            return LoadBase64(options.KeyEncryptionKey, "CloudPortal:Identity:KeyEncryptionKey");
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKeyFile))
            return LoadFile(options.KeyEncryptionKeyFile);
        var path = Path.Combine(keysDirectory, DefaultFileName);
        try
        {
            if (!File.Exists(path))
                Create(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new StartupException($"cannot create the key-encryption key '{path}': {ex.Message} (set CloudPortal:Identity:KeyEncryptionKeyFile)", ex);
        }
        return LoadFile(path);
    }

    public static X509Certificate2[] Retired(IdentityModuleOptions options) =>
        [.. options.RetiredKeyEncryptionKeyFiles.Where(f => !string.IsNullOrWhiteSpace(f)).Select(LoadFile)];

    /// <summary>A new self-signed RSA certificate as an owner-only PFX file; never overwrites one that exists.</summary>
    public static X509Certificate2 Create(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest($"CN=CloudPortal Identity key encryption {DateTime.UtcNow:yyyy-MM-dd}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        // EncryptedXml does not look at validity; a long one keeps a forgotten date from ever mattering.
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
        var pfx = certificate.Export(X509ContentType.Pkcs12);
        // Written under a temporary name and moved: a replica starting at the same time never reads half a file,
        // and the first one to finish wins.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temporary, OwnerOnlyFile.CreateOptions()))
            stream.Write(pfx);
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
        }
        return LoadFile(path);
    }

    private static X509Certificate2 LoadFile(string path)
    {
        try
        {
            return Usable(X509CertificateLoader.LoadPkcs12FromFile(path, password: null, X509KeyStorageFlags.EphemeralKeySet), path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new StartupException($"cannot read the key-encryption key '{path}': {ex.Message}", ex);
        }
    }

    private static X509Certificate2 LoadBase64(string value, string setting)
    {
        try
        {
            return Usable(X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(value.Trim()), password: null, X509KeyStorageFlags.EphemeralKeySet), setting);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw new StartupException($"{setting} is not a base64 PKCS#12 certificate without a password: {ex.Message}", ex);
        }
    }

    private static X509Certificate2 Usable(X509Certificate2 certificate, string source)
    {
        using var key = certificate.GetRSAPrivateKey();
        return key is not null ? certificate : throw new StartupException($"the key-encryption key '{source}' has no RSA private key");
    }
}
