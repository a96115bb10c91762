using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Placement;

/// <summary>Reads the state of every host, with its aggregates, for one scheduling decision.</summary>
public static class HostSnapshot
{
    public static async Task<IReadOnlyList<HostState>> LoadAsync(SchedulerDbContext db, DateTime now, TimeSpan downAfter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        // A projection of the columns placement needs, not entities: at 10,000 hosts this is most of a decision's cost.
        var nodes = await db.ComputeNodes.AsNoTracking()
            .Select(n => new
            {
                n.Host, n.AvailabilityZone, n.Enabled, n.DisabledReason, n.LastHeartbeatAt, n.HypervisorType, n.CpuModel, n.InstanceCount, n.Generation,
                n.VCpus, n.ReservedVCpus, n.CpuAllocationRatio, n.UsedVCpus,
                n.MemoryMb, n.ReservedMemoryMb, n.RamAllocationRatio, n.UsedMemoryMb,
                n.DiskGb, n.ReservedDiskGb, n.DiskAllocationRatio, n.UsedDiskGb,
            })
            .ToListAsync(cancellationToken);
        var memberships = await db.AggregateHosts.AsNoTracking()
            .Join(db.Aggregates.AsNoTracking(), h => h.AggregateId, a => a.Id, (h, a) => new { h.Host, a.Name, a.Metadata })
            .ToListAsync(cancellationToken);
        var byHost = memberships
            .GroupBy(m => m.Host, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<AggregateState>)g.Select(m => new AggregateState(m.Name, m.Metadata)).ToList(), StringComparer.Ordinal);
        return nodes.Select(n => new HostState(
            n.Host, n.AvailabilityZone, n.Enabled, n.DisabledReason, now - n.LastHeartbeatAt <= downAfter, n.LastHeartbeatAt,
            new ResourceInventory(n.VCpus, n.ReservedVCpus, n.CpuAllocationRatio, n.UsedVCpus),
            new ResourceInventory(n.MemoryMb, n.ReservedMemoryMb, n.RamAllocationRatio, n.UsedMemoryMb),
            new ResourceInventory(n.DiskGb, n.ReservedDiskGb, n.DiskAllocationRatio, n.UsedDiskGb),
            n.InstanceCount, HostCapabilities.HypervisorType(n.HypervisorType), HostCapabilities.Architecture(n.CpuModel),
            byHost.GetValueOrDefault(n.Host) ?? [])
        {
            Generation = n.Generation,
        }).ToList();
    }
}
