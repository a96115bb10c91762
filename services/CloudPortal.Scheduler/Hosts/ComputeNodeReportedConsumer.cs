using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>Keeps the latest report of every compute node. Idempotent by its natural guard: an older report changes nothing.</summary>
public sealed class ComputeNodeReportedConsumer(SchedulerDbContext db) : IConsumer<ComputeNodeReported>
{
    public async Task Consume(ConsumeContext<ComputeNodeReported> context)
    {
        var report = context.Message;
        var node = await db.ComputeNodes.SingleOrDefaultAsync(n => n.Host == report.Host, context.CancellationToken);
        if (node is null)
            db.ComputeNodes.Add(ComputeNode.Register(report));
        else if (!node.Apply(report))
            return;
        await db.SaveChangesAsync(context.CancellationToken);
    }
}

public sealed class ComputeNodeReportedConsumerDefinition : ConsumerDefinition<ComputeNodeReportedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ComputeNodeReportedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The first two reports of a new node can race to insert it; the retry finds the row and updates it.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
    }
}
