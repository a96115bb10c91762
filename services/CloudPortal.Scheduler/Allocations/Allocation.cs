using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Allocations;

/// <summary>
/// What one consumer (an instance) holds on one provider. A consumer holds at most one allocation; a resize
/// replaces it, a delete releases it. Written only by <see cref="ClaimService"/>, together with the provider's usage.
/// </summary>
public sealed class Allocation
{
    public Guid ConsumerId { get; init; }

    public Guid ProjectId { get; init; }

    public required string Host { get; set; }

    public int VCpus { get; set; }

    public long MemoryMb { get; set; }

    public long DiskGb { get; set; }

    /// <summary>The server group the consumer belongs to, if any: claims check strict group policies against these rows.</summary>
    public Guid? ServerGroupId { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }

    public PlacementResources Resources => new(VCpus, MemoryMb, DiskGb);
}
