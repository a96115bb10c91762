namespace CloudPortal.Identity.Quotas;

/// <summary>The cloud-wide default limit of one resource (Keystone's registered limit).</summary>
public sealed class QuotaDefault
{
    public required string Resource { get; set; }

    public long Limit { get; set; }
}

/// <summary>A project's override of one resource's default (Keystone's project limit).</summary>
public sealed class QuotaOverride
{
    public Guid ProjectId { get; set; }

    public required string Resource { get; set; }

    public long Limit { get; set; }
}

/// <summary>
/// What a project uses of one resource, as its owning module last counted it (<see cref="Contracts.Identity.QuotaUsageReported"/>).
/// Identity enforces nothing with it: owners enforce their limits; this feeds the quota view.
/// </summary>
public sealed class QuotaUsage
{
    public Guid ProjectId { get; set; }

    public required string Resource { get; set; }

    public required string Owner { get; set; }

    public long InUse { get; set; }

    public long Reserved { get; set; }

    public DateTime CountedAt { get; set; }
}
