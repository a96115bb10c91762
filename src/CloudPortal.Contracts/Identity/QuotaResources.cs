namespace CloudPortal.Contracts.Identity;

/// <summary>
/// Every resource CloudPortal counts against a quota. Identity holds the limits; the owning module counts
/// usage. The names are the wire vocabulary of <see cref="ProjectQuotaChanged"/> and the quota API.
/// </summary>
public static class QuotaResources
{
    public const string Instances = "instances";
    public const string Cores = "cores";
    public const string RamMb = "ram_mb";
    public const string KeyPairs = "key_pairs";
    public const string ServerGroups = "server_groups";
    public const string Images = "images";
    public const string ImageBytes = "image_bytes";
    public const string Volumes = "volumes";
    public const string Gigabytes = "gigabytes";
    public const string Snapshots = "snapshots";
    public const string Networks = "networks";
    public const string Ports = "ports";
    public const string FloatingIps = "floating_ips";
    public const string SecurityGroups = "security_groups";
    public const string SecurityGroupRules = "security_group_rules";

    /// <summary>Defaults for a new cloud (OpenStack's where it has one). An admin can change each.</summary>
    public static IReadOnlyDictionary<string, long> Defaults { get; } = new Dictionary<string, long>
    {
        [Instances] = 10,
        [Cores] = 20,
        [RamMb] = 51_200,
        [KeyPairs] = 100,
        [ServerGroups] = 10,
        [Images] = 100,
        [ImageBytes] = 1L << 40,
        [Volumes] = 10,
        [Gigabytes] = 1_000,
        [Snapshots] = 10,
        [Networks] = 100,
        [Ports] = 500,
        [FloatingIps] = 50,
        [SecurityGroups] = 10,
        [SecurityGroupRules] = 100,
    };
}
