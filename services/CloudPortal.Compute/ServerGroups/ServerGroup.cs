using CloudPortal.ServiceDefaults.Http;

namespace CloudPortal.Compute.ServerGroups;

/// <summary>
/// A set of instances placed with one policy (Nova's server group): affinity (one host), anti-affinity (all different
/// hosts), or their soft variants (preferred, not required). Members are the instances that name the group.
/// </summary>
public sealed class ServerGroup : ISequenced
{
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    public Guid ProjectId { get; set; }

    public required string Name { get; set; }

    /// <summary>One of <see cref="Contracts.Scheduler.ServerGroupPolicies"/>.</summary>
    public required string Policy { get; set; }

    public Guid? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
