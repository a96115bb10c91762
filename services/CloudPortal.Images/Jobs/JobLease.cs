using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Jobs;

/// <summary>
/// One job at a time works on an image's data (an import or a conversion): it takes the image's lease with one
/// conditional update, renews it while it works, and gives it back when it stops; only the holder can renew or give
/// it back. A job that finds the lease taken leaves (a duplicate). Work whose job is gone, because its process died or
/// because it never reached the queue (the database committed, the enqueue did not happen), is an image still saving
/// with no live lease and no recent activity: the reaper (<see cref="Intake.StaleUploadReaper"/>) enqueues its job again.
/// </summary>
public static class JobLease
{
    /// <returns>The holder's token, or null when another job holds the image (or it is no longer saving).</returns>
    public static async Task<Guid?> TryTakeAsync(ImagesDbContext db, Guid imageId, DateTime now, TimeSpan length, CancellationToken cancellationToken)
    {
        var holder = Guid.NewGuid();
        var taken = await db.Images
            .Where(i => i.Id == imageId && i.Status == ImageStatus.Saving && (i.JobLeaseUntil == null || i.JobLeaseUntil < now))
            .ExecuteUpdateAsync(s => s
                .SetProperty(i => i.JobLeaseHolder, holder)
                .SetProperty(i => i.JobLeaseUntil, now + length)
                .SetProperty(i => i.UpdatedAt, now), cancellationToken);
        return taken == 1 ? holder : null;
    }

    public static Task RenewAsync(ImagesDbContext db, Guid imageId, Guid holder, DateTime now, TimeSpan length, CancellationToken cancellationToken) =>
        db.Images.Where(i => i.Id == imageId && i.JobLeaseHolder == holder)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.JobLeaseUntil, now + length).SetProperty(i => i.UpdatedAt, now), cancellationToken);

    /// <summary>Gives the lease back (a finished job, or an attempt that Hangfire will retry).</summary>
    public static Task ReleaseAsync(ImagesDbContext db, Guid imageId, Guid holder, DateTime now) =>
        db.Images.Where(i => i.Id == imageId && i.JobLeaseHolder == holder)
            .ExecuteUpdateAsync(s => s
                .SetProperty(i => i.JobLeaseHolder, (Guid?)null)
                .SetProperty(i => i.JobLeaseUntil, (DateTime?)null)
                .SetProperty(i => i.UpdatedAt, now), CancellationToken.None);
}
