using CloudPortal.Contracts.Scheduler;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Scheduler.Placement;

/// <summary>
/// <see cref="SelectHosts"/> → <see cref="HostsSelected"/> | <see cref="NoValidHost"/>. Idempotent by its natural
/// guard: a consumer that already holds a claim gets that claim back. Several schedulers may consume the same queue;
/// the claim's generation check keeps them from over-committing a host.
/// </summary>
public sealed partial class SelectHostsConsumer(PlacementService placement, ILogger<SelectHostsConsumer> log) : IConsumer<SelectHosts>
{
    public async Task Consume(ConsumeContext<SelectHosts> context)
    {
        var outcome = await placement.SelectAsync(PlacementRequest.From(context.Message), context.CancellationToken);
        if (outcome.Selected is { } selected)
        {
            await context.RespondAsync(selected);
            return;
        }
        var answer = outcome.Unschedulable!;
        // The per-filter table is for operators: it names no host, but it is not what the tenant is told.
        if (log.IsEnabled(LogLevel.Information))
        {
            var eliminations = string.Join("; ", answer.Filters.Where(f => f.Removed > 0).Select(f => $"{f.Filter} -{f.Removed} ({string.Join(", ", f.Reasons)})"));
            LogNoValidHost(log, answer.ConsumerId, answer.Reason, answer.HostsConsidered, eliminations);
        }
        await context.RespondAsync(answer);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No valid host for {ConsumerId}: {Reason} ({Hosts} hosts: {Eliminations})")]
    private static partial void LogNoValidHost(ILogger logger, Guid consumerId, string reason, int hosts, string eliminations);
}

public sealed class SelectHostsConsumerDefinition : ConsumerDefinition<SelectHostsConsumer>
{
    // Named in the contracts: Compute sends to it through its outbox.
    public SelectHostsConsumerDefinition() => EndpointName = SchedulerQueues.SelectHosts;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SelectHostsConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The claim retries its own generation conflicts; this covers a database that is briefly unreachable.
        // A malformed request (negative resources, unknown policy) will not get better: fault at once.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<ArgumentException>();
            retry.Intervals(100, 500, 2000);
        });
    }
}

/// <summary><see cref="CheckFit"/> → <see cref="FitReport"/>: read-only, for the launch wizard.</summary>
public sealed class CheckFitConsumer(PlacementService placement) : IConsumer<CheckFit>
{
    public async Task Consume(ConsumeContext<CheckFit> context) =>
        await context.RespondAsync(await placement.CheckFitAsync(context.Message, context.CancellationToken));
}

public sealed class CheckFitConsumerDefinition : ConsumerDefinition<CheckFitConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CheckFitConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<ArgumentException>();
            retry.Intervals(100, 500);
        });
    }
}
