using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Quotas;

/// <param name="Reserved">Held by instances still building (their claim is taken; they do not run yet).</param>
public sealed record ComputeQuotaLine(string Resource, long Limit, long InUse, long Reserved);

public sealed record ComputeQuota(Guid ProjectId, IReadOnlyList<ComputeQuotaLine> Resources);

/// <summary>
/// What Compute enforces for the acting project, as it sees it now: the limits it has from Identity and the usage it
/// counts. The quota view in Identity shows the same across every owner.
/// </summary>
public static class QuotaApi
{
    public static RouteGroupBuilder MapQuota(this RouteGroupBuilder api)
    {
        api.MapGet("/quota", Get).WithSummary("The limits Compute enforces for the acting project and what it counts against them")
            .Produces<ComputeQuota>().ProducesProblems(400, 403);
        return api;
    }

    private static async Task<IResult> Get(HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Resolve(http, ServiceDefaults.Security.ProjectRole.Reader, projectRequired: true, out var scope) is { } problem)
            return problem;
        var project = scope.Project!.Value;
        var limits = await db.LimitsAsync(project, ComputeQuotas.Resources, http.RequestAborted);
        var usage = await ComputeQuotas.InstanceUsageAsync(db, project, http.RequestAborted);
        var keys = await db.KeyPairs.CountAsync(k => k.ProjectId == project, http.RequestAborted);
        var groups = await db.ServerGroups.CountAsync(g => g.ProjectId == project, http.RequestAborted);
        return TypedResults.Ok(new ComputeQuota(project,
        [
            new(QuotaResources.Instances, limits[QuotaResources.Instances], usage.Instances - usage.Building, usage.Building),
            new(QuotaResources.Cores, limits[QuotaResources.Cores], usage.Cores - usage.BuildingCores, usage.BuildingCores),
            new(QuotaResources.RamMb, limits[QuotaResources.RamMb], usage.RamMb - usage.BuildingRamMb, usage.BuildingRamMb),
            new(QuotaResources.KeyPairs, limits[QuotaResources.KeyPairs], keys, 0),
            new(QuotaResources.ServerGroups, limits[QuotaResources.ServerGroups], groups, 0),
        ]));
    }
}
