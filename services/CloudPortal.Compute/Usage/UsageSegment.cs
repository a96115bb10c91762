namespace CloudPortal.Compute.Usage;

/// <summary>
/// A stretch of time an instance spent in one billable status (active, stopped, paused, suspended) with one flavor.
/// Lifecycle changes close the open segment and open the next; instance-hours are the segments' overlaps with a period.
/// </summary>
public sealed class UsageSegment
{
    public long Id { get; set; }

    public Guid InstanceId { get; set; }

    public Guid ProjectId { get; set; }

    public required string FlavorName { get; set; }

    public int VCpus { get; set; }

    public int RamMb { get; set; }

    public int DiskGb { get; set; }

    /// <summary>active, stopped, paused or suspended.</summary>
    public required string Status { get; set; }

    public DateTime StartedAt { get; set; }

    /// <summary>null while the instance is still in this status.</summary>
    public DateTime? EndedAt { get; set; }
}
