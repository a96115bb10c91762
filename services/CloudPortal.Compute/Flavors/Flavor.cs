using CloudPortal.ServiceDefaults.Http;

namespace CloudPortal.Compute.Flavors;

/// <summary>
/// A size an instance can have (Nova's flavor). Instances copy what they need at launch, so a flavor can be deleted
/// (hidden from new launches) while instances of it keep running.
/// </summary>
public sealed class Flavor : ISequenced
{
    /// <summary>Creation order: the stable sort key for paging.</summary>
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    /// <summary>Unique among flavors that are not deleted; what EC2 calls the instance type.</summary>
    public required string Name { get; set; }

    public int VCpus { get; set; }

    public int RamMb { get; set; }

    /// <summary>Root disk in GiB.</summary>
    public int DiskGb { get; set; }

    public int EphemeralGb { get; set; }

    /// <summary>Free-form specs; the Scheduler reads <c>aggregate_instance_extra_specs:KEY</c>.</summary>
    public Dictionary<string, string> ExtraSpecs { get; set; } = [];

    /// <summary>Public flavors are usable by every project; private ones only by the projects in <see cref="FlavorAccess"/>.</summary>
    public bool IsPublic { get; set; } = true;

    public string? Description { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }
}

/// <summary>A project that may use a private flavor.</summary>
public sealed class FlavorAccess
{
    public Guid FlavorId { get; set; }

    public Guid ProjectId { get; set; }
}
