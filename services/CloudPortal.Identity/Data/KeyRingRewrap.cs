using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Identity.Data;

/// <summary>
/// Wraps every Data Protection key in the database with the current key-encryption key (<c>cloudportal admin
/// rewrap-keys</c>): keys an earlier KEK protected (after a rotation) and keys stored in plaintext (written before
/// ADR 0013). The keys themselves do not change, so everything they protect stays readable; afterwards the retired
/// KEKs are no longer needed. Data Protection's own encryptor and decryptor do the work.
/// </summary>
public sealed class KeyRingRewrap(
    IdentityModuleDbContext db, IServiceProvider services, IOptions<IdentityModuleOptions> options, IConfiguration configuration, ILoggerFactory loggers)
{
    private static readonly XNamespace DataProtection = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName EncryptedSecret = DataProtection + "encryptedSecret";
    private static readonly XName RequiresEncryption = DataProtection + "requiresEncryption";

    public sealed record Result(int Keys, int Rewrapped, int WerePlaintext);

    public async Task<Result> RunAsync(CancellationToken cancellationToken)
    {
        using var current = KeyRingProtection.Current(options.Value, options.Value.KeysDirectory(configuration.GetCloudPortalOptions().FullDataDir));
        var encryptor = new CertificateXmlEncryptor(current, loggers);
        // Finds the certificate of each encrypted key among the current and retired KEKs (XmlKeyDecryptionOptions).
        var decryptor = new EncryptedXmlDecryptor(services);
        var rows = await db.DataProtectionKeys.ToListAsync(cancellationToken);
        int rewrapped = 0, plaintext = 0;
        foreach (var row in rows)
        {
            if (string.IsNullOrEmpty(row.Xml))
                continue;
            var key = XElement.Parse(row.Xml);
            foreach (var encrypted in key.Descendants(EncryptedSecret).ToList())
                encrypted.ReplaceWith(decryptor.Decrypt(encrypted.Elements().Single()));
            var secrets = key.Descendants().Where(e => (string?)e.Attribute(RequiresEncryption) == "true").ToList();
            if (secrets.Count == 0)
                continue;
            if (!row.Xml.Contains("encryptedSecret", StringComparison.Ordinal))
                plaintext++;
            foreach (var secret in secrets)
            {
                var info = encryptor.Encrypt(secret);
                secret.ReplaceWith(new XElement(EncryptedSecret, new XAttribute("decryptorType", info.DecryptorType.AssemblyQualifiedName!), info.EncryptedElement));
            }
            row.Xml = key.ToString(SaveOptions.DisableFormatting);
            rewrapped++;
        }
        await db.SaveChangesAsync(cancellationToken);
        return new Result(rows.Count, rewrapped, plaintext);
    }
}
