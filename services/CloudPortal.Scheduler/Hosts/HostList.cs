using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>One host as admins see it: what it reported, what an admin set, and what is allocated.</summary>
public sealed record HostSummary(
    string Host, string HypervisorType, string? HypervisorVersion, int VCpus, long MemoryMb, long DiskGb,
    string CapacitySource, bool Simulated, DateTime LastHeartbeatAt, bool Up)
{
    public string AvailabilityZone { get; init; } = ComputeNode.DefaultAvailabilityZone;

    public bool Enabled { get; init; } = true;

    public string? DisabledReason { get; init; }

    public ResourceInventory VCpu { get; init; }

    public ResourceInventory Memory { get; init; }

    public ResourceInventory Disk { get; init; }

    public int InstanceCount { get; init; }

    public long Generation { get; init; }
}

public sealed record AllocationSummary(Guid ConsumerId, Guid ProjectId, string Host, PlacementResources Resources, DateTime CreatedAt, DateTime UpdatedAt);

public static class HostList
{
    /// <summary>Every node the Scheduler knows, for <c>cloudportal admin hosts</c> and the admin API.</summary>
    public static async Task<IReadOnlyList<HostSummary>> ListAsync(SchedulerDbContext db, DateTime now, TimeSpan downAfter, CancellationToken cancellationToken = default)
    {
        var nodes = await db.ComputeNodes.AsNoTracking().OrderBy(n => n.Host).ToListAsync(cancellationToken);
        return nodes.Select(n => Summarise(n, now, downAfter)).ToList();
    }

    public static HostSummary Summarise(ComputeNode n, DateTime now, TimeSpan downAfter)
    {
        ArgumentNullException.ThrowIfNull(n);
        return new HostSummary(n.Host, n.HypervisorType, n.HypervisorVersion, n.VCpus, n.MemoryMb, n.DiskGb,
            n.CapacitySource, n.Simulated, n.LastHeartbeatAt, n.IsUp(now, downAfter))
        {
            AvailabilityZone = n.AvailabilityZone,
            Enabled = n.Enabled,
            DisabledReason = n.DisabledReason,
            VCpu = n.Inventory(ResourceClass.VCpu),
            Memory = n.Inventory(ResourceClass.MemoryMb),
            Disk = n.Inventory(ResourceClass.DiskGb),
            InstanceCount = n.InstanceCount,
            Generation = n.Generation,
        };
    }

    /// <summary>Every allocation, or those on one host, by host then age.</summary>
    public static async Task<IReadOnlyList<AllocationSummary>> AllocationsAsync(SchedulerDbContext db, string? host = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        IQueryable<Allocation> query = db.Allocations.AsNoTracking();
        if (host is not null)
            query = query.Where(a => a.Host == host);
        var rows = await query.ToListAsync(cancellationToken);
        return rows.OrderBy(a => a.Host, StringComparer.Ordinal).ThenBy(a => a.CreatedAt)
            .Select(a => new AllocationSummary(a.ConsumerId, a.ProjectId, a.Host, a.Resources, a.CreatedAt, a.UpdatedAt)).ToList();
    }
}
