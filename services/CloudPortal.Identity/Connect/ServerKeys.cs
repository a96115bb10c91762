using System.Security.Cryptography;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.IdentityModel.Tokens;

namespace CloudPortal.Identity.Connect;

/// <summary>
/// The RSA keys that sign (and encrypt) tokens, persisted as PKCS#8 PEM files readable only by their
/// owner, so tokens survive restarts and every replica sharing the directory issues the same keys.
/// Never a development certificate.
/// </summary>
public static class ServerKeys
{
    public static (SecurityKey Signing, SecurityKey Encryption) LoadOrCreate(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return (Load(Path.Combine(directory, "signing-key.pem"), "signing"), Load(Path.Combine(directory, "encryption-key.pem"), "encryption"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new StartupException($"cannot load or create the token keys in '{directory}': {ex.Message} (set CloudPortal:Identity:KeysPath)", ex);
        }
    }

    private static RsaSecurityKey Load(string path, string use)
    {
        var rsa = RSA.Create();
        if (File.Exists(path))
        {
            rsa.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            rsa.KeySize = 2048;
            var pem = rsa.ExportPkcs8PrivateKeyPem();
            // Written under a temporary name and moved: a replica never reads a half-written key.
            var temporary = $"{path}.{Environment.ProcessId}.tmp";
            using (var stream = new FileStream(temporary, OwnerOnlyFile.CreateOptions()))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(pem);
            }
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
                File.Delete(temporary);
                rsa.ImportFromPem(File.ReadAllText(path));
            }
        }
        return new RsaSecurityKey(rsa) { KeyId = $"{use}-{Convert.ToHexString(SHA256.HashData(rsa.ExportSubjectPublicKeyInfo()))[..16].ToLowerInvariant()}" };
    }
}
