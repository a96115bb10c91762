using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>The host does not exist (it never reported).</summary>
public sealed class HostNotFoundException(string host) : Exception($"no compute host named '{host}' has reported to the scheduler")
{
    public string Host { get; } = host;
}

/// <summary>
/// Admin changes to a host: enable/disable, allocation ratios, reserved amounts, zone. Each writes only its own
/// columns and moves the host's generation in the same UPDATE, so a claim that read the old values starts again
/// and sees the new ones. No optimistic retry is needed: on a busy host, a generation check could starve the admin.
/// </summary>
public static class HostAdministration
{
    public static Task<ComputeNode> DisableAsync(SchedulerDbContext db, string host, string reason, CancellationToken cancellationToken = default) =>
        ChangeAsync(db, host, n => n.Disable(reason), (s, n) => s
            .SetProperty(x => x.Enabled, n.Enabled)
            .SetProperty(x => x.DisabledReason, n.DisabledReason), cancellationToken);

    public static Task<ComputeNode> EnableAsync(SchedulerDbContext db, string host, CancellationToken cancellationToken = default) =>
        ChangeAsync(db, host, n => n.Enable(), (s, n) => s
            .SetProperty(x => x.Enabled, n.Enabled)
            .SetProperty(x => x.DisabledReason, n.DisabledReason), cancellationToken);

    /// <summary>Sets the ratios given; null keeps the current one.</summary>
    public static Task<ComputeNode> SetAllocationRatiosAsync(SchedulerDbContext db, string host, double? cpu, double? ram, double? disk, CancellationToken cancellationToken = default) =>
        ChangeAsync(db, host, n => n.SetAllocationRatios(cpu, ram, disk), (s, n) =>
        {
            if (cpu is not null)
                s.SetProperty(x => x.CpuAllocationRatio, n.CpuAllocationRatio);
            if (ram is not null)
                s.SetProperty(x => x.RamAllocationRatio, n.RamAllocationRatio);
            if (disk is not null)
                s.SetProperty(x => x.DiskAllocationRatio, n.DiskAllocationRatio);
        }, cancellationToken);

    /// <summary>Sets the amounts held back for the host itself; null keeps the current one.</summary>
    public static Task<ComputeNode> SetReservedAsync(SchedulerDbContext db, string host, int? vCpus, long? memoryMb, long? diskGb, CancellationToken cancellationToken = default) =>
        ChangeAsync(db, host, n => n.SetReserved(vCpus, memoryMb, diskGb), (s, n) =>
        {
            if (vCpus is not null)
                s.SetProperty(x => x.ReservedVCpus, n.ReservedVCpus);
            if (memoryMb is not null)
                s.SetProperty(x => x.ReservedMemoryMb, n.ReservedMemoryMb);
            if (diskGb is not null)
                s.SetProperty(x => x.ReservedDiskGb, n.ReservedDiskGb);
        }, cancellationToken);

    public static Task<ComputeNode> MoveToZoneAsync(SchedulerDbContext db, string host, string availabilityZone, CancellationToken cancellationToken = default) =>
        ChangeAsync(db, host, n => n.MoveToZone(availabilityZone), (s, n) => s.SetProperty(x => x.AvailabilityZone, n.AvailabilityZone), cancellationToken);

    /// <param name="change">Validates and applies the change to a copy (the domain rules live on <see cref="ComputeNode"/>).</param>
    /// <param name="write">The columns this change writes, from the changed copy.</param>
    private static async Task<ComputeNode> ChangeAsync(SchedulerDbContext db, string host, Action<ComputeNode> change,
        Action<UpdateSettersBuilder<ComputeNode>, ComputeNode> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var node = await db.ComputeNodes.AsNoTracking().SingleOrDefaultAsync(n => n.Host == host, cancellationToken)
            ?? throw new HostNotFoundException(host);
        change(node);
        var updated = await db.ComputeNodes.Where(n => n.Host == host).ExecuteUpdateAsync(s =>
        {
            write(s, node);
            s.SetProperty(x => x.Generation, x => x.Generation + 1);
        }, cancellationToken);
        if (updated == 0)
            throw new HostNotFoundException(host);
        return await db.ComputeNodes.AsNoTracking().SingleAsync(n => n.Host == host, cancellationToken);
    }
}
