using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Quotas;

/// <summary>
/// Keeps the newest count of every (project, resource) an owner reports, for the quota view. Idempotent by its natural
/// guard: a report counted no later than the one kept changes nothing, so redeliveries and reordering are harmless.
/// </summary>
public sealed class QuotaUsageReportedConsumer(IdentityModuleDbContext db) : IConsumer<QuotaUsageReported>
{
    public async Task Consume(ConsumeContext<QuotaUsageReported> context)
    {
        var report = context.Message;
        var countedAt = report.CountedAt.UtcDateTime;
        var resources = report.Resources.Where(r => QuotaResources.Defaults.ContainsKey(r.Resource)).ToList();
        var names = resources.Select(r => r.Resource).ToList();
        var kept = await db.QuotaUsage.Where(u => u.ProjectId == report.ProjectId && names.Contains(u.Resource))
            .ToDictionaryAsync(u => u.Resource, StringComparer.Ordinal, context.CancellationToken);
        foreach (var usage in resources)
        {
            if (!kept.TryGetValue(usage.Resource, out var row))
            {
                db.QuotaUsage.Add(new QuotaUsage
                {
                    ProjectId = report.ProjectId, Resource = usage.Resource, Owner = report.Owner,
                    InUse = usage.InUse, Reserved = usage.Reserved, CountedAt = countedAt,
                });
            }
            else if (row.CountedAt < countedAt)
            {
                (row.Owner, row.InUse, row.Reserved, row.CountedAt) = (report.Owner, usage.InUse, usage.Reserved, countedAt);
            }
        }
        await db.SaveChangesAsync(context.CancellationToken);
    }
}

public sealed class QuotaUsageReportedConsumerDefinition : ConsumerDefinition<QuotaUsageReportedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<QuotaUsageReportedConsumer> consumerConfigurator, IRegistrationContext context)
    {
        // Two first reports for one project can race to insert its rows; the retry finds them and compares.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 5000));
    }
}
