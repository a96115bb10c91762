using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Intake;

/// <summary>
/// Cleans up after uploads whose process died: an upload that has not sent a heartbeat for ten intervals
/// goes back to queued, and staging files older than a day are removed. Safe with several replicas: each
/// step is one conditional update or a delete of an abandoned file.
/// </summary>
public sealed class StaleUploadReaper(IServiceScopeFactory scopes, IImageStore store, IOptions<ImagesOptions> options, TimeProvider time, ILogger<StaleUploadReaper> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
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
                var purged = store.PurgeStaging(TimeSpan.FromDays(1));
                if (requeued + purged > 0)
                    logger.Reaped(requeued, purged);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Cleaning up abandoned uploads failed: {Reason}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
