using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>
/// <see cref="ListAvailabilityZones"/> → the zones of the known hosts, each available while one of its enabled hosts
/// is up. Tenants see zone names and states only, never hosts.
/// </summary>
public sealed class ListAvailabilityZonesConsumer(SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time)
    : IConsumer<ListAvailabilityZones>
{
    public async Task Consume(ConsumeContext<ListAvailabilityZones> context)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var nodes = await db.ComputeNodes.AsNoTracking().ToListAsync(context.CancellationToken);
        var zones = nodes
            .GroupBy(n => n.AvailabilityZone, StringComparer.Ordinal)
            .Select(z => new AvailabilityZoneState(z.Key, z.Any(n => n.Enabled && n.IsUp(now, options.Value.NodeDownAfter))))
            .OrderBy(z => z.Name, StringComparer.Ordinal)
            .ToList();
        await context.RespondAsync(new AvailabilityZoneList(zones));
    }
}
