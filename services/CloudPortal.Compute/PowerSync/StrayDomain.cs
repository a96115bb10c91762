namespace CloudPortal.Compute.PowerSync;

/// <summary>
/// A <c>cp-</c> domain a node reported with no live instance behind it (deleted, failed over, or never Compute's). It is
/// removed from the node once it has been seen for the grace period; the row stays as the record of that.
/// </summary>
public sealed class StrayDomain
{
    public long Sequence { get; set; }

    public required string Host { get; set; }

    public Guid InstanceId { get; set; }

    public Guid ProjectId { get; set; }

    public DateTime FirstSeenAt { get; set; }

    public DateTime LastSeenAt { get; set; }

    /// <summary>When Compute told the node to delete it; null while the grace period runs.</summary>
    public DateTime? ReapedAt { get; set; }

    public string? Reason { get; set; }
}
