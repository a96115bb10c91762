using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Quotas;

/// <summary>
/// Answers an owner's request for every limit of its resources (<see cref="GetQuotaLimits"/>): the defaults (the
/// built-in one where an admin set none) and every project override, read under <see cref="QuotaLimitLock"/> so the
/// snapshot's time divides the changes it holds from those it does not. Changes nothing.
/// </summary>
public sealed class GetQuotaLimitsConsumer(IdentityModuleDbContext db, TimeProvider time) : IConsumer<GetQuotaLimits>
{
    public async Task Consume(ConsumeContext<GetQuotaLimits> context)
    {
        var cancellationToken = context.CancellationToken;
        var resources = (context.Message.Resources ?? []).Where(r => r is not null && QuotaResources.Defaults.ContainsKey(r))
            .Distinct(StringComparer.Ordinal).ToList();
        QuotaLimitsSnapshot snapshot;
        await using (var transaction = await QuotaLimitLock.BeginAsync(db, cancellationToken))
        {
            var readAt = time.GetUtcNow();
            var defaults = await db.QuotaDefaults.AsNoTracking().Where(d => resources.Contains(d.Resource))
                .ToDictionaryAsync(d => d.Resource, d => d.Limit, StringComparer.Ordinal, cancellationToken);
            var overrides = await db.QuotaOverrides.AsNoTracking().Where(o => resources.Contains(o.Resource))
                .OrderBy(o => o.ProjectId).ThenBy(o => o.Resource)
                .Select(o => new ProjectQuotaLimit(o.ProjectId, o.Resource, o.Limit))
                .ToListAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            snapshot = new QuotaLimitsSnapshot(
                resources.Select(r => new QuotaDefaultLimit(r, defaults.GetValueOrDefault(r, QuotaResources.Defaults[r]))).ToList(),
                overrides,
                readAt);
        }
        await context.RespondAsync(snapshot);
    }
}
