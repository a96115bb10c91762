using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Hosts;

public sealed record HostSummary(
    string Host, string HypervisorType, string? HypervisorVersion, int VCpus, long MemoryMb, long DiskGb,
    string CapacitySource, bool Simulated, DateTime LastHeartbeatAt, bool Up);

public static class HostList
{
    /// <summary>Every node the Scheduler knows, for <c>cloudportal admin hosts</c> and the admin API.</summary>
    public static async Task<IReadOnlyList<HostSummary>> ListAsync(SchedulerDbContext db, DateTime now, TimeSpan downAfter, CancellationToken cancellationToken = default)
    {
        var nodes = await db.ComputeNodes.AsNoTracking().OrderBy(n => n.Host).ToListAsync(cancellationToken);
        return nodes.Select(n => new HostSummary(n.Host, n.HypervisorType, n.HypervisorVersion, n.VCpus, n.MemoryMb, n.DiskGb,
            n.CapacitySource, n.Simulated, n.LastHeartbeatAt, n.IsUp(now, downAfter))).ToList();
    }
}
