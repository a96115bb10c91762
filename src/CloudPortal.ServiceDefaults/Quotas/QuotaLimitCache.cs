// PLACEHOLDER until helper/quota-feed is merged: same API.
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Quotas;

public sealed class CachedQuotaLimit
{
    public Guid ProjectId { get; set; }
    public required string Resource { get; set; }
    public long Limit { get; set; }
    public bool Removed { get; set; }
    public DateTime ChangedAt { get; set; }
}

public interface IQuotaLimitStore : IModuleDbContext
{
    DbSet<CachedQuotaLimit> QuotaLimits { get; }
}

public static class QuotaLimitCache
{
    public static ModelBuilder MapQuotaLimits(this ModelBuilder modelBuilder, string table = "quota_limits")
    {
        modelBuilder.Entity<CachedQuotaLimit>(l => { l.ToTable(table); l.HasKey(x => new { x.ProjectId, x.Resource }); l.Property(x => x.Resource).HasMaxLength(64); });
        return modelBuilder;
    }

    public static async Task<long> LimitAsync(this IQuotaLimitStore db, Guid projectId, string resource, CancellationToken cancellationToken) =>
        (await db.LimitsAsync(projectId, [resource], cancellationToken))[resource];

    public static async Task<IReadOnlyDictionary<string, long>> LimitsAsync(this IQuotaLimitStore db, Guid projectId, IReadOnlyCollection<string> resources, CancellationToken cancellationToken)
    {
        var rows = await db.QuotaLimits.AsNoTracking().Where(l => resources.Contains(l.Resource) && (l.ProjectId == projectId || l.ProjectId == Guid.Empty)).ToListAsync(cancellationToken);
        return resources.ToDictionary(r => r, r => rows.FirstOrDefault(l => l.ProjectId == projectId && l.Resource == r && !l.Removed)?.Limit
            ?? rows.FirstOrDefault(l => l.ProjectId == Guid.Empty && l.Resource == r)?.Limit ?? QuotaResources.Defaults[r]);
    }

    public static IHostApplicationBuilder AddQuotaLimitCache<TContext>(this IHostApplicationBuilder builder, string owner, params string[] resources)
        where TContext : DbContext, IQuotaLimitStore => builder;
}
