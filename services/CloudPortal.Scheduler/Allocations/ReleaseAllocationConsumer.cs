using CloudPortal.Contracts.Scheduler;
using MassTransit;

namespace CloudPortal.Scheduler.Allocations;

/// <summary>
/// <see cref="ReleaseAllocation"/>: gives back what an instance holds. Idempotent by nature (a consumer that holds
/// nothing is released already); answers <see cref="AllocationReleased"/> when the sender asked for a response.
/// </summary>
public sealed class ReleaseAllocationConsumer(ClaimService claims) : IConsumer<ReleaseAllocation>
{
    public async Task Consume(ConsumeContext<ReleaseAllocation> context)
    {
        var result = await claims.ReleaseAsync(context.Message.ConsumerId, context.CancellationToken);
        if (context.ResponseAddress is not null)
            await context.RespondAsync(new AllocationReleased(context.Message.ConsumerId, result.Host, result.Resources));
    }
}

public sealed class ReleaseAllocationConsumerDefinition : ConsumerDefinition<ReleaseAllocationConsumer>
{
    // Named in the contracts: Compute sends to it through its outbox.
    public ReleaseAllocationConsumerDefinition() => EndpointName = SchedulerQueues.ReleaseAllocation;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ReleaseAllocationConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
    }
}
