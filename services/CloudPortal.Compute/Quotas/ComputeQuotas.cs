using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Quotas;

/// <summary>What a refused request would have needed: the resource, its limit, what is in use, and what was asked for.</summary>
public sealed record QuotaShortfall(string Resource, long Limit, long InUse, long Requested);

/// <summary>What a project uses of Compute's quota resources, counted from the rows themselves.</summary>
public sealed record ComputeUsage(int Instances, long Cores, long RamMb, int Building, long BuildingCores, long BuildingRamMb);

/// <summary>
/// Compute's quotas: instances, cores and RAM (checked at launch), key pairs and server groups. Always counted from the
/// rows under the project's lock (<see cref="ServiceDefaults.Persistence.TransactionLocks"/>), in the transaction that
/// inserts the new ones, so concurrent requests can never admit more than the limit. Limits are Identity's, cached.
/// </summary>
public static class ComputeQuotas
{
    public static readonly string[] Resources =
        [QuotaResources.Instances, QuotaResources.Cores, QuotaResources.RamMb, QuotaResources.KeyPairs, QuotaResources.ServerGroups];

    private static readonly string[] LaunchResources = [QuotaResources.Instances, QuotaResources.Cores, QuotaResources.RamMb];

    /// <summary>Every instance not deleted counts, building ones included (their claim is held).</summary>
    public static async Task<ComputeUsage> InstanceUsageAsync(ComputeDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        var rows = await db.Instances.AsNoTracking()
            .Where(i => i.ProjectId == projectId && i.Status != InstanceStatus.Deleted)
            .GroupBy(i => i.Status == InstanceStatus.Building)
            .Select(g => new { Building = g.Key, Count = g.Count(), Cores = g.Sum(i => (long)i.VCpus), Ram = g.Sum(i => (long)i.RamMb) })
            .ToListAsync(cancellationToken);
        var building = rows.FirstOrDefault(r => r.Building);
        return new ComputeUsage(rows.Sum(r => r.Count), rows.Sum(r => r.Cores), rows.Sum(r => r.Ram), building?.Count ?? 0, building?.Cores ?? 0, building?.Ram ?? 0);
    }

    /// <summary>
    /// How many of <paramref name="max"/> instances of this size fit the project's limits now (at least
    /// <paramref name="min"/>, else none): a min/max-count launch takes what fits between the two. Call under the project's lock.
    /// </summary>
    public static async Task<(int Admitted, QuotaShortfall? Refusal)> AdmitAsync(
        ComputeDbContext db, Guid projectId, int min, int max, int vcpus, int ramMb, CancellationToken cancellationToken)
    {
        var limits = await db.LimitsAsync(projectId, LaunchResources, cancellationToken);
        var usage = await InstanceUsageAsync(db, projectId, cancellationToken);
        var checks = new (string Resource, long Limit, long InUse, long Each)[]
        {
            (QuotaResources.Instances, limits[QuotaResources.Instances], usage.Instances, 1),
            (QuotaResources.Cores, limits[QuotaResources.Cores], usage.Cores, vcpus),
            (QuotaResources.RamMb, limits[QuotaResources.RamMb], usage.RamMb, ramMb),
        };
        var admitted = (long)max;
        foreach (var (_, limit, inUse, each) in checks)
            admitted = Math.Min(admitted, Math.Max(0, limit - inUse) / each);
        if (admitted >= min)
            return ((int)admitted, null);
        // Name the first resource that cannot take even the minimum.
        var (resource, l, used, unit) = checks.First(c => Math.Max(0, c.Limit - c.InUse) / c.Each < min);
        return (0, new QuotaShortfall(resource, l, used, unit * min));
    }

    public static ProblemHttpResult Exceeded(QuotaShortfall shortfall)
    {
        ArgumentNullException.ThrowIfNull(shortfall);
        var left = Math.Max(0, shortfall.Limit - shortfall.InUse);
        return Problems.Of(StatusCodes.Status403Forbidden, "quota_exceeded", "Quota exceeded",
            $"The project's {shortfall.Resource} quota is {shortfall.Limit}; {shortfall.InUse} in use, {left} left, {shortfall.Requested} requested.",
            [
                new("resource", shortfall.Resource),
                new("limit", shortfall.Limit),
                new("inUse", shortfall.InUse),
                new("requested", shortfall.Requested),
            ]);
    }
}
