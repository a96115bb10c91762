using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore.Storage;

namespace CloudPortal.Identity.Quotas;

/// <summary>
/// One lock for every change of a quota limit and every snapshot of them (<see cref="GetQuotaLimitsConsumer"/>).
/// A change takes its <c>ChangedAt</c> after the lock, and commits before releasing it; a snapshot takes its
/// <c>ReadAt</c> after the lock. So a snapshot holds exactly the changes stamped before it, and an owner may
/// safely let the snapshot win over every cached value stamped earlier.
/// </summary>
internal static class QuotaLimitLock
{
    private static readonly Guid Key = new("5f1c2a8e-6d0b-4f3e-9a57-0c2e8b7d4a19");

    public static Task<IDbContextTransaction> BeginAsync(IdentityModuleDbContext db, CancellationToken cancellationToken) =>
        db.Database.BeginLockedAsync(Key, cancellationToken);
}
