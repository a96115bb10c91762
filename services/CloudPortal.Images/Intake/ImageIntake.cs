using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Inspection;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Quotas;
using CloudPortal.Images.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Images.Intake;

public enum IntakeResult
{
    /// <summary>The image is active.</summary>
    Active,

    /// <summary>Accepted; a conversion job makes it active.</summary>
    Converting,

    /// <summary>The data was refused; the image is killed with the reason.</summary>
    Refused,

    /// <summary>The data would exceed a quota; the image is queued again.</summary>
    OverQuota,

    /// <summary>The image left the saving state meanwhile (deleted); the data was discarded.</summary>
    Gone,
}

public sealed record IntakeOutcome(IntakeResult Result, string? Code = null, string? Reason = null);

/// <summary>
/// The second half of every intake, uploads and imports alike: inspect the staged data, then, under the
/// project's quota lock, check the quotas and move the data into place. Whatever does not end in the store
/// is deleted; the image ends active, converting, killed (refused) or queued (over quota).
/// </summary>
public sealed class ImageIntake(ImagesDbContext db, IImageStore store, ImageInspector inspector, ImageJobs jobs, ImageUsageReporter usage, TimeProvider time, ILogger<ImageIntake> logger)
{
    public async Task<IntakeOutcome> CompleteAsync(Guid imageId, StagedData staged, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        await using var _ = staged.File;
        var image = await db.Images.AsNoTracking().SingleAsync(i => i.Id == imageId, cancellationToken);

        InspectionResult inspection;
        try
        {
            inspection = await inspector.InspectAsync(staged.File.Path, image.DiskFormat, cancellationToken);
        }
        catch (IntakeRefusedException refused)
        {
            logger.LogWarning("Image {ImageId} refused at intake: {Code}: {Reason}", imageId, refused.Code, refused.Message);
            await FailAsync(imageId, refused.Code, refused.Message, cancellationToken);
            return new IntakeOutcome(IntakeResult.Refused, refused.Code, refused.Message);
        }

        await using var transaction = await db.LockProjectAsync(image.OwnerProjectId, cancellationToken);
        var tracked = await db.Images.SingleAsync(i => i.Id == imageId, cancellationToken);
        if (tracked.Status != ImageStatus.Saving)
            return new IntakeOutcome(IntakeResult.Gone);
        var now = time.GetUtcNow().UtcDateTime;
        try
        {
            await ImageQuotas.EnsureCanStoreAsync(db, tracked.OwnerProjectId, imageId, staged.Size, cancellationToken);
        }
        catch (QuotaExceededException exceeded)
        {
            tracked.Status = ImageStatus.Queued;
            tracked.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new IntakeOutcome(IntakeResult.OverQuota, QuotaCode(exceeded.Resource), exceeded.Message);
        }

        var format = tracked.DiskFormat ?? inspection.Format;
        tracked.DiskFormat = format;
        tracked.SizeBytes = staged.Size;
        tracked.Sha256 = staged.Sha256;
        tracked.Sha512 = staged.Sha512;
        tracked.VirtualSizeBytes = inspection.VirtualSize;
        tracked.FailureCode = tracked.FailureReason = null;
        tracked.UpdatedAt = now;
        // The data is in: the import job that fetched it lets go, so the conversion job can take the image at once.
        (tracked.JobLeaseHolder, tracked.JobLeaseUntil) = (null, null);
        var convert = DiskFormats.NeedsConversion(format);
        if (convert)
        {
            tracked.ConversionState = "pending";
        }
        else
        {
            tracked.Status = ImageStatus.Active;
            (tracked.ComputeFormat, tracked.ComputeSizeBytes, tracked.ComputeSha256) = (format, staged.Size, staged.Sha256);
        }
        await store.CommitAsync(staged.File, imageId, ImageFileKind.Original, cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            await store.DeleteAsync(imageId, CancellationToken.None);
            throw;
        }
        usage.Touch(tracked.OwnerProjectId);
        if (convert)
        {
            try
            {
                jobs.EnqueueConversion(imageId);
            }
            catch (Exception ex)
            {
                // Committed as pending: the reaper finds it without a job and enqueues it (JobLease).
                logger.EnqueueFailed(imageId, "conversion", ex.Message);
            }
        }
        logger.Stored(imageId, staged.Size, format, convert ? "; converting to qcow2" : "");
        return new IntakeOutcome(convert ? IntakeResult.Converting : IntakeResult.Active);
    }

    /// <summary>Kills an image that is still saving, keeping the reason for its owner.</summary>
    public async Task FailAsync(Guid imageId, string code, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Images.Where(i => i.Id == imageId && i.Status == ImageStatus.Saving)
            .ExecuteUpdateAsync(s => s
                .SetProperty(i => i.Status, ImageStatus.Killed)
                .SetProperty(i => i.FailureCode, code)
                .SetProperty(i => i.FailureReason, reason.Length > 2048 ? reason[..2048] : reason)
                .SetProperty(i => i.UpdatedAt, now), cancellationToken);
        // A killed image no longer holds data (a failed conversion gives its bytes back).
        if (await db.Images.Where(i => i.Id == imageId).Select(i => (Guid?)i.OwnerProjectId).SingleOrDefaultAsync(cancellationToken) is { } project)
            usage.Touch(project);
    }

    /// <summary>Puts an image whose data never arrived whole back to queued.</summary>
    public async Task RequeueAsync(Guid imageId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.Images.Where(i => i.Id == imageId && i.Status == ImageStatus.Saving)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.Queued).SetProperty(i => i.UpdatedAt, now), cancellationToken);
    }

    public static string QuotaCode(string resource) => resource == Contracts.Identity.QuotaResources.Images ? "image_quota_exceeded" : "image_bytes_quota_exceeded";
}
