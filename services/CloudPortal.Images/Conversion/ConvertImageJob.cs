using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Inspection;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Quotas;
using CloudPortal.Images.Storage;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Conversion;

/// <summary>
/// Converts an image that arrived as VMDK, VHD or VHDX (formats an instance overlay cannot be backed by) into qcow2
/// with <c>qemu-img convert -p</c> given both formats explicitly; its progress goes to the image's
/// <c>ConversionPercent</c> every <see cref="ImagesOptions.ConversionProgressInterval"/>. The original data and its checksums stay;
/// the converted copy gets its own checksum, which agents verify. The image becomes active when the copy is
/// in place; after the last failed attempt it is killed with the reason.
/// </summary>
public sealed class ConvertImageJob(ImagesDbContext db, IImageStore store, QemuImg qemuImg, ImageIntake intake,
    IServiceScopeFactory scopes, IOptions<ImagesOptions> options, TimeProvider time, ILogger<ConvertImageJob> logger)
{
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [2, 10, 30, 60, 120], OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [Queue(Jobs.ImageJobs.Queue)]
    public async Task RunAsync(Guid imageId, PerformContext? context, CancellationToken cancellationToken)
    {
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, cancellationToken);
        if (image is null || image.Status != ImageStatus.Saving || image.ConversionState is not ("pending" or "running"))
            return;
        if (await JobLease.TryTakeAsync(db, imageId, time.GetUtcNow().UtcDateTime, options.Value.JobLease, cancellationToken) is not { } lease)
            return;   // another job is converting it (a duplicate enqueued by the reaper)
        try
        {
            await ConvertAsync(image, lease, context, cancellationToken);
        }
        finally
        {
            // Done (a no-op: the commit cleared it), killed, or an attempt Hangfire retries.
            await JobLease.ReleaseAsync(db, imageId, lease, time.GetUtcNow().UtcDateTime);
        }
    }

    private async Task ConvertAsync(Image image, Guid lease, PerformContext? context, CancellationToken cancellationToken)
    {
        var imageId = image.Id;
        await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ConversionState, "running").SetProperty(i => i.ConversionPercent, 0), cancellationToken);
        await using var heartbeat = Heartbeat.Start(scopes, imageId, lease, options.Value, time);
        var attempt = (context?.GetJobParameter<int>("RetryCount") ?? 0) + 1;

        var source = store.LocalPath(imageId, ImageFileKind.Original)
            ?? throw new InvalidOperationException("conversion needs an image store with local files");
        await using var output = store.CreateStagingFile();
        try
        {
            var converted = await qemuImg.ConvertAsync(source, DiskFormats.QemuName(image.DiskFormat!), output.Path, DiskFormats.Compute,
                Progress(imageId, cancellationToken), cancellationToken);
            // Not worth retrying: the same data meets the same limits again.
            if (converted.ExceededLimits)
                throw new IntakeRefusedException(ImageInspector.TooComplex, "qemu-img exceeded its memory or CPU limit converting the image.");
            if (converted.ExitCode != 0)
                throw new InvalidOperationException($"qemu-img convert failed: {QemuImg.Describe(converted, source, output.Path)}");
            var info = await qemuImg.InfoAsync(output.Path, DiskFormats.Compute, cancellationToken);
            if (info.ExitCode != 0)
                throw new InvalidOperationException($"the converted image is unreadable: {QemuImg.Describe(info, output.Path)}");
            ImageInspector.Check(new DetectedFormat(DiskFormats.Compute, image.VirtualSizeBytes), DiskFormats.Compute, output.Path, info.StandardOutput);
            var (size, sha256) = await StreamingReceiver.HashFileAsync(output.Path, cancellationToken);

            await using var transaction = await db.LockProjectAsync(image.OwnerProjectId, cancellationToken);
            var tracked = await db.Images.SingleAsync(i => i.Id == imageId, cancellationToken);
            if (tracked.Status != ImageStatus.Saving)
                return; // deleted while converting
            await store.CommitAsync(output, imageId, ImageFileKind.Compute, cancellationToken);
            tracked.ComputeFormat = DiskFormats.Compute;
            tracked.ComputeSizeBytes = size;
            tracked.ComputeSha256 = sha256;
            tracked.ConversionState = "done";
            tracked.ConversionPercent = 100;
            (tracked.JobLeaseHolder, tracked.JobLeaseUntil) = (null, null);
            tracked.Status = ImageStatus.Active;
            tracked.UpdatedAt = time.GetUtcNow().UtcDateTime;
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.Converted(imageId, image.DiskFormat, size);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (ex is IntakeRefusedException || attempt >= options.Value.JobAttempts)
            {
                logger.LogWarning("Conversion of image {ImageId} failed for good (attempt {Attempt}): {Reason}", imageId, attempt, ex.Message);
                await intake.FailAsync(imageId, ex is IntakeRefusedException refused ? refused.Code : "conversion_failed", $"Conversion to qcow2 failed: {ex.Message}", CancellationToken.None);
                await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ConversionState, "failed"), CancellationToken.None);
                if (await db.Images.AnyAsync(i => i.Id == imageId && i.Status == ImageStatus.Killed, CancellationToken.None))
                    await store.DeleteAsync(imageId, CancellationToken.None);
                return;
            }
            logger.ConversionRetry(imageId, attempt, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Writes qemu-img's percentage to the image, at most once per interval (the 100 comes with the commit), on a
    /// DbContext of its own: the job's waits on qemu-img meanwhile, and a report must not hold the conversion up for long.
    /// </summary>
    private Func<int, Task> Progress(Guid imageId, CancellationToken cancellationToken)
    {
        var interval = options.Value.ConversionProgressInterval;
        var last = time.GetTimestamp();   // the 0 written as the conversion started
        return async percent =>
        {
            if (percent is <= 0 or >= 100 || time.GetElapsedTime(last) < interval)
                return;
            last = time.GetTimestamp();
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<ImagesDbContext>().Images
                .Where(i => i.Id == imageId && i.Status == ImageStatus.Saving)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.ConversionPercent, percent), cancellationToken);
            logger.ConversionProgress(imageId, percent);
        };
    }
}
