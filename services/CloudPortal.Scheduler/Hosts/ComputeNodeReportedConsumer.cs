using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Placement;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>
/// Keeps the latest report of every compute node. Idempotent by its natural guard: an older report changes nothing.
/// A report only touches what the agent reports; reserved amounts, ratios, zone and enabled stay as the admin set them.
/// </summary>
public sealed class ComputeNodeReportedConsumer(SchedulerDbContext db, HostStateCache cache, IOptions<SchedulerOptions> options) : IConsumer<ComputeNodeReported>
{
    private const int Attempts = 5;

    public async Task Consume(ConsumeContext<ComputeNodeReported> context)
    {
        var report = context.Message;
        for (var attempt = 1; ; attempt++)
        {
            var node = await db.ComputeNodes.SingleOrDefaultAsync(n => n.Host == report.Host, context.CancellationToken);
            var generation = node?.Generation;
            if (node is null)
                db.ComputeNodes.Add(ComputeNode.Register(report, options.Value.DefaultAvailabilityZone));
            else if (!node.Apply(report))
                return;
            try
            {
                await db.SaveChangesAsync(context.CancellationToken);
                // A new node or a change of capacity is news for placement; a heartbeat alone is not (liveness is
                // judged from the cached heartbeat, refreshed every few seconds).
                if (node is null || node.Generation != generation)
                    cache.Invalidate();
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < Attempts)
            {
                // A claim or an admin change moved the node's generation since we read it: read it again.
                db.ChangeTracker.Clear();
            }
            catch (DbUpdateException) when (node is null && attempt < Attempts)
            {
                // The first two reports of a new node raced to insert it: the other won, so update its row.
                db.ChangeTracker.Clear();
            }
        }
    }
}

public sealed class ComputeNodeReportedConsumerDefinition : ConsumerDefinition<ComputeNodeReportedConsumer>
{
    private const int Partitions = 8;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ComputeNodeReportedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Conflicts are handled in the consumer; this covers a database that is briefly unreachable.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
        // One node's reports one after another (an agent's first reports arrive together and would race to insert
        // its row); different nodes' reports in parallel. Replicas of the Scheduler can still race: the retry in
        // Consume covers that rarer case.
        var partitioner = endpointConfigurator.CreatePartitioner(Partitions);
        consumerConfigurator.Message<ComputeNodeReported>(m => m.UsePartitioner(partitioner, c => c.Message.Host));
    }
}
