using CloudPortal.Contracts.Identity;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace CloudPortal.Images.Quotas;

public sealed record QuotaUsage(string Resource, long InUse, long Limit);

public sealed class QuotaExceededException(string resource, long limit, long inUse, long requested)
    : Exception($"The project's {resource} quota is {limit}; {inUse} in use, {requested} more requested.")
{
    public string Resource { get; } = resource;
}

/// <summary>
/// Image quotas, counted from the image records under a per-project lock, so N concurrent requests against
/// a quota of Q never admit more than Q. Limits come from Identity, cached in this database by the shared
/// <see cref="QuotaLimitCache"/> (events and a periodic snapshot).
/// </summary>
public static class ImageQuotas
{
    /// <summary>The quota resources the Images module owns: it counts their usage and enforces their limits.</summary>
    public static IReadOnlyList<string> Resources { get; } = [QuotaResources.Images, QuotaResources.ImageBytes];

    /// <summary>Begins the transaction that serializes a project's quota decisions (<see cref="TransactionLocks"/>).</summary>
    public static async Task<IDbContextTransaction> LockProjectAsync(this ImagesDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.LockAsync(projectId, cancellationToken);
        return transaction;
    }

    /// <summary>Image records that count against <c>images</c>: every one not deleted.</summary>
    public static Task<int> CountImagesAsync(ImagesDbContext db, Guid projectId, CancellationToken cancellationToken) =>
        db.Images.CountAsync(i => i.OwnerProjectId == projectId && i.Status != ImageStatus.Deleted, cancellationToken);

    /// <summary>Stored bytes that count against <c>image_bytes</c>: images holding committed data.</summary>
    public static async Task<long> CountBytesAsync(ImagesDbContext db, Guid projectId, Guid? except, CancellationToken cancellationToken) =>
        await db.Images.Where(i => i.OwnerProjectId == projectId && i.Id != except && i.SizeBytes != null
                && (i.Status == ImageStatus.Saving || i.Status == ImageStatus.Active || i.Status == ImageStatus.Deactivated))
            .SumAsync(i => i.SizeBytes ?? 0, cancellationToken);

    private static Task<int> CountWithDataAsync(ImagesDbContext db, Guid projectId, Guid except, CancellationToken cancellationToken) =>
        db.Images.CountAsync(i => i.OwnerProjectId == projectId && i.Id != except && i.SizeBytes != null
            && (i.Status == ImageStatus.Saving || i.Status == ImageStatus.Active || i.Status == ImageStatus.Deactivated), cancellationToken);

    /// <summary>At create, under the lock: one more record must fit the <c>images</c> limit.</summary>
    public static async Task EnsureCanCreateAsync(ImagesDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        var limit = await db.LimitAsync(projectId, QuotaResources.Images, cancellationToken);
        var inUse = await CountImagesAsync(db, projectId, cancellationToken);
        if (inUse + 1 > limit)
            throw new QuotaExceededException(QuotaResources.Images, limit, inUse, 1);
    }

    /// <summary>
    /// At upload completion, under the lock: the image's data must fit both limits, counting only images
    /// that already hold data (a limit lowered after records were created still blocks new data).
    /// </summary>
    public static async Task EnsureCanStoreAsync(ImagesDbContext db, Guid projectId, Guid imageId, long size, CancellationToken cancellationToken)
    {
        var imagesLimit = await db.LimitAsync(projectId, QuotaResources.Images, cancellationToken);
        var withData = await CountWithDataAsync(db, projectId, imageId, cancellationToken);
        if (withData + 1 > imagesLimit)
            throw new QuotaExceededException(QuotaResources.Images, imagesLimit, withData, 1);
        var bytesLimit = await db.LimitAsync(projectId, QuotaResources.ImageBytes, cancellationToken);
        var bytes = await CountBytesAsync(db, projectId, imageId, cancellationToken);
        if (bytes + size > bytesLimit)
            throw new QuotaExceededException(QuotaResources.ImageBytes, bytesLimit, bytes, size);
    }

    public static async Task<IReadOnlyList<QuotaUsage>> UsageAsync(ImagesDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        var limits = await db.LimitsAsync(projectId, Resources, cancellationToken);
        return
        [
            new(QuotaResources.Images, await CountImagesAsync(db, projectId, cancellationToken), limits[QuotaResources.Images]),
            new(QuotaResources.ImageBytes, await CountBytesAsync(db, projectId, null, cancellationToken), limits[QuotaResources.ImageBytes]),
        ];
    }
}
