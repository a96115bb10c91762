using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Quotas;

/// <summary>
/// Compute's part of the quota view: instances, cores and RAM (instances still building are reported as reserved: their
/// claim is held but they do not run yet), key pairs and server groups.
/// </summary>
public sealed class ComputeUsageReporter(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider time, ILogger<ComputeUsageReporter> log)
    : QuotaUsageReporter(scopes, time, log)
{
    protected override string Owner => ComputeModule.Name;

    protected override TimeSpan ReconcileInterval => options.Value.UsageReconcileInterval;

    protected override async Task<IReadOnlyCollection<Guid>> ProjectsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComputeDbContext>();
        var projects = await db.Instances.Select(i => i.ProjectId)
            .Union(db.KeyPairs.Select(k => k.ProjectId))
            .Union(db.ServerGroups.Select(g => g.ProjectId))
            .ToListAsync(cancellationToken);
        return projects;
    }

    protected override async Task<IReadOnlyList<ResourceUsage>> CountAsync(IServiceProvider services, Guid projectId, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComputeDbContext>();
        var usage = await ComputeQuotas.InstanceUsageAsync(db, projectId, cancellationToken);
        var keys = await db.KeyPairs.CountAsync(k => k.ProjectId == projectId, cancellationToken);
        var groups = await db.ServerGroups.CountAsync(g => g.ProjectId == projectId, cancellationToken);
        return
        [
            new(QuotaResources.Instances, usage.Instances - usage.Building, usage.Building),
            new(QuotaResources.Cores, usage.Cores - usage.BuildingCores, usage.BuildingCores),
            new(QuotaResources.RamMb, usage.RamMb - usage.BuildingRamMb, usage.BuildingRamMb),
            new(QuotaResources.KeyPairs, keys, 0),
            new(QuotaResources.ServerGroups, groups, 0),
        ];
    }
}
