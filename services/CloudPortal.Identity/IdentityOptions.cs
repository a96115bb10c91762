namespace CloudPortal.Identity;

/// <summary>The <c>CloudPortal:Identity</c> section, as the Identity module reads it.</summary>
public sealed class IdentityModuleOptions
{
    public const string Section = "CloudPortal:Identity";

    /// <summary>The issuer URL when it must be fixed (behind a proxy, several replicas); else the request's base URL.</summary>
    public string? Issuer { get; set; }

    /// <summary>Where the token signing and encryption keys live (default <c>{data-dir}/identity-keys</c>; share it between replicas).</summary>
    public string? KeysPath { get; set; }

    public string KeysDirectory(string dataDir) => string.IsNullOrWhiteSpace(KeysPath) ? Path.Combine(dataDir, "identity-keys") : KeysPath;

    /// <summary>
    /// The key-encryption key of the Data Protection key ring (ADR 0013) as a base64 PKCS#12 certificate without a
    /// password (an environment variable or secret store); wins over <see cref="KeyEncryptionKeyFile"/>.
    /// </summary>
    public string? KeyEncryptionKey { get; set; }

    /// <summary>
    /// The key-encryption key as a PKCS#12 file (a mounted secret); default <c>{KeysPath}/key-encryption.pfx</c>,
    /// created on first start. Every replica must use the same one.
    /// </summary>
    public string? KeyEncryptionKeyFile { get; set; }

    /// <summary>Earlier key-encryption keys (PKCS#12 files), kept to read the keys they protected after a rotation.</summary>
    public List<string> RetiredKeyEncryptionKeyFiles { get; set; } = [];

    /// <summary>Redirect URIs of the portal's OIDC client; default: <c>{url}/signin-oidc</c> for every <c>--urls</c> address.</summary>
    public List<string> PortalRedirectUris { get; set; } = [];

    /// <summary>Secret of the <c>cloudportal-service</c> client (modules, agents); generated into the data directory when empty.</summary>
    public string? ServiceClientSecret { get; set; }

    /// <summary>Secret of the <c>cloudportal-ec2</c> client (the EC2 API, ADR 0012); generated into the data directory when empty.</summary>
    public string? Ec2ClientSecret { get; set; }

    /// <summary>Create the cloud admin on start when none exists (all-in-one sets this).</summary>
    public bool BootstrapOnStart { get; set; }

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);
}
