using CloudPortal.Compute.Data;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.PowerSync;

public sealed record StrayDomainView(string Host, Guid InstanceId, Guid ProjectId, string Domain, string? Reason, DateTime FirstSeenAt, DateTime LastSeenAt, DateTime? ReapedAt);

public sealed record StrayDomainPage(IReadOnlyList<StrayDomainView> StrayDomains, string? Next);

/// <summary>Cloud admins: the <c>cp-</c> domains nodes reported with no live instance, waiting out their grace period or reaped.</summary>
public static class StrayDomainsApi
{
    public static RouteGroupBuilder MapStrayDomains(this RouteGroupBuilder api)
    {
        api.MapGet("/stray-domains", List).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Domains on nodes with no live instance behind them: when first seen, and when reaped (cloud admin)")
            .Produces<StrayDomainPage>().ProducesProblems(400, 403);
        return api;
    }

    /// <param name="marker">The instance id of the last domain seen (newest first).</param>
    private static async Task<IResult> List(HttpContext http, ComputeDbContext db, string? host, int? limit, Guid? marker)
    {
        if (Paging.PageSize(limit, out var pageSize) is { } problem)
            return problem;
        var query = db.StrayDomains.AsNoTracking();
        if (host is not null)
            query = query.Where(s => s.Host == host);
        if (marker is not null)
        {
            var at = await query.Where(s => s.InstanceId == marker).MaxAsync(s => (long?)s.Sequence, http.RequestAborted);
            if (at is null)
                return Paging.InvalidMarker(marker);
            query = query.Where(s => s.Sequence < at);
        }
        var page = await query.OrderByDescending(s => s.Sequence).Take(pageSize + 1).ToListAsync(http.RequestAborted);
        var next = Paging.Next(page, pageSize, http.Request, s => s.InstanceId.ToString());
        return TypedResults.Ok(new StrayDomainPage(page.Select(s => new StrayDomainView(s.Host, s.InstanceId, s.ProjectId, $"cp-{s.InstanceId:D}", s.Reason, s.FirstSeenAt, s.LastSeenAt, s.ReapedAt)).ToList(), next));
    }
}
