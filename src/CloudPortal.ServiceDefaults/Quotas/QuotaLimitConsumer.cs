using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>
/// Caches the limits of one owner's resources from Identity's events (<see cref="QuotaLimitCache.AddQuotaLimitCache"/>).
/// Inbox-deduplicated under the owner's queue name; an event older than the cached value changes nothing.
/// </summary>
internal sealed class QuotaLimitConsumer<TContext>(TContext db, QuotaLimitFeed<TContext> feed) : IConsumer<ProjectQuotaChanged>
    where TContext : DbContext, IQuotaLimitStore
{
    public async Task Consume(ConsumeContext<ProjectQuotaChanged> context)
    {
        var message = context.Message;
        // Another owner's resource, or a removal without a project (Identity never sends one): nothing to cache.
        if (!feed.Covers(message.Resource) || (message.ProjectId is null && message.OverrideRemoved))
            return;
        await db.ConsumeOnceAsync(context, feed.QueueName,
            () => QuotaLimitCache.ApplyAsync(db, message, context.CancellationToken)).ConfigureAwait(false);
    }
}

internal sealed class QuotaLimitConsumerDefinition<TContext> : ConsumerDefinition<QuotaLimitConsumer<TContext>>
    where TContext : DbContext, IQuotaLimitStore
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<QuotaLimitConsumer<TContext>> consumerConfigurator, IRegistrationContext context)
    {
        // A busy database (SQLite behind a long write, a PostgreSQL failover) is worth a few tries before the error queue.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
    }
}
