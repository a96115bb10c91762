using CloudPortal.Contracts.Identity;
using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Outbox;
using MassTransit;

namespace CloudPortal.Images.Quotas;

/// <summary>
/// Caches the image limits Identity publishes. Inbox-deduplicated; an event older than the cached value
/// (replicas' relays may interleave) does not overwrite it.
/// </summary>
public sealed class ImageQuotaLimitConsumer(ImagesDbContext db) : IConsumer<ProjectQuotaChanged>
{
    public async Task Consume(ConsumeContext<ProjectQuotaChanged> context)
    {
        var message = context.Message;
        if (message.Resource is not (QuotaResources.Images or QuotaResources.ImageBytes))
            return;
        await db.ConsumeOnceAsync(context, "images-quota-limit", async () =>
        {
            var project = message.ProjectId ?? Guid.Empty;
            var changedAt = message.ChangedAt.UtcDateTime;
            var row = await db.QuotaLimits.FindAsync([project, message.Resource], context.CancellationToken);
            if (row is null)
                db.QuotaLimits.Add(new ImageQuotaLimit { ProjectId = project, Resource = message.Resource, Limit = message.Limit, ChangedAt = changedAt });
            else if (row.ChangedAt <= changedAt)
                (row.Limit, row.ChangedAt) = (message.Limit, changedAt);
        });
    }
}

public sealed class ImageQuotaLimitConsumerDefinition : ConsumerDefinition<ImageQuotaLimitConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ImageQuotaLimitConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // The first two events for one (project, resource) can race to insert its row; the retry updates it.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
    }
}
