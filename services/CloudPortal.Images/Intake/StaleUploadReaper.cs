using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Intake;

/// <summary>
/// Cleans up after work whose process died: an upload that has not sent a heartbeat for ten intervals goes back to
/// queued; an import or a conversion with no live <see cref="JobLease"/> and no activity for as long (its process died,
/// or its job never reached the queue) gets its job enqueued again; staging files older than a day are removed. Safe
/// with several replicas: each step is one conditional update or a delete of an abandoned file.
/// </summary>
public sealed class StaleUploadReaper(IServiceScopeFactory scopes, IImageStore store, ImageJobs jobs, IOptions<ImagesOptions> options, TimeProvider time,
    ILogger<StaleUploadReaper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Min(TimeSpan.FromMinutes(1), options.Value.UploadHeartbeat), time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
                var now = time.GetUtcNow().UtcDateTime;
                var cutoff = now - 10 * options.Value.UploadHeartbeat;
                var requeued = await db.Images
                    .Where(i => i.Status == ImageStatus.Saving && i.ImportUrl == null && i.ConversionState == null && i.SizeBytes == null && i.UpdatedAt < cutoff)
                    .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.Queued).SetProperty(i => i.UpdatedAt, now), stoppingToken);
                var resumed = await ResumeLostJobsAsync(db, now, cutoff, stoppingToken);
                var purged = store.PurgeStaging(TimeSpan.FromDays(1));
                if (requeued + resumed + purged > 0)
                    logger.Reaped(requeued, resumed, purged);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Cleaning up abandoned uploads failed: {Reason}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Imports and conversions nobody works on: enqueue their job again (the lease keeps a late original out).</summary>
    private async Task<int> ResumeLostJobsAsync(ImagesDbContext db, DateTime now, DateTime cutoff, CancellationToken cancellationToken)
    {
        var lost = await db.Images.AsNoTracking()
            .Where(i => i.Status == ImageStatus.Saving && (i.JobLeaseUntil == null || i.JobLeaseUntil < now) && i.UpdatedAt < cutoff
                && (i.ConversionState == "pending" || i.ConversionState == "running" || (i.ImportUrl != null && i.SizeBytes == null)))
            .Select(i => new { i.Id, i.UpdatedAt, Convert = i.ConversionState != null })
            .ToListAsync(cancellationToken);
        var resumed = 0;
        foreach (var image in lost)
        {
            // One replica wins each image; the touch also keeps it from being resumed again before the job starts.
            var won = await db.Images.Where(i => i.Id == image.Id && i.UpdatedAt == image.UpdatedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.UpdatedAt, now), cancellationToken);
            if (won == 0)
                continue;
            if (image.Convert)
                jobs.EnqueueConversion(image.Id);
            else
                jobs.EnqueueImport(image.Id);
            logger.JobResumed(image.Id, image.Convert ? "conversion" : "import");
            resumed++;
        }
        return resumed;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
