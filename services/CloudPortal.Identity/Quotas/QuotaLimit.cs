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
