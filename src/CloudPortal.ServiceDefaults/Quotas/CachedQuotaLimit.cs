using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>
/// A quota limit Identity holds, cached in an owner's database (<see cref="QuotaLimitCache"/>): a project's override,
/// or with <see cref="ProjectId"/> = <see cref="Guid.Empty"/> the cloud-wide default.
/// </summary>
public sealed class CachedQuotaLimit
{
    /// <summary>The project, or <see cref="Guid.Empty"/> for the cloud-wide default.</summary>
    public Guid ProjectId { get; set; }

    public required string Resource { get; set; }

    public long Limit { get; set; }

    /// <summary>
    /// A tombstone: the project's override was removed and the project follows the default. The row stays, with the
    /// time of the removal, so an older event that set the override cannot bring it back.
    /// </summary>
    public bool Removed { get; set; }

    /// <summary>When Identity made the change (or read the snapshot that confirmed it), UTC, to the microsecond.</summary>
    public DateTime ChangedAt { get; set; }
}

/// <summary>A module database that caches quota limits: map the table with <see cref="QuotaLimitCache.MapQuotaLimits"/>.</summary>
public interface IQuotaLimitStore : IModuleDbContext
{
    DbSet<CachedQuotaLimit> QuotaLimits { get; }
}
