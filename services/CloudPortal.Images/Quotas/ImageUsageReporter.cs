using CloudPortal.Contracts.Identity;
using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Quotas;

/// <summary>
/// Reports each project's image usage to Identity's quota view: soon after a change (<see cref="QuotaUsageReporter.Touch"/>:
/// an image created, stored, killed or deleted), and for every project at each <see cref="ImagesOptions.UsageReconcileInterval"/>.
/// Usage is always recounted from the image records.
/// </summary>
public sealed class ImageUsageReporter(IServiceScopeFactory scopes, IOptions<ImagesOptions> options, TimeProvider time, ILogger<ImageUsageReporter> log)
    : QuotaUsageReporter(scopes, time, log)
{
    public const string OwnerName = "images";

    protected override string Owner => OwnerName;

    protected override TimeSpan ReconcileInterval => options.Value.UsageReconcileInterval;

    protected override async Task<IReadOnlyCollection<Guid>> ProjectsAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        await services.GetRequiredService<ImagesDbContext>().Images.Select(i => i.OwnerProjectId).Distinct().ToListAsync(cancellationToken);

    protected override async Task<IReadOnlyList<ResourceUsage>> CountAsync(IServiceProvider services, Guid projectId, CancellationToken cancellationToken) =>
        (await ImageQuotas.UsageAsync(services.GetRequiredService<ImagesDbContext>(), projectId, cancellationToken))
            .Select(u => new ResourceUsage(u.Resource, u.InUse, 0)).ToList();
}
