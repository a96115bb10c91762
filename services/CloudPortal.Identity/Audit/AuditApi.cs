using System.Globalization;
using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Audit;

public sealed record AuditView(long Id, DateTime At, string Action, bool Success, Guid? ActorId, string? ActorName, Guid? ProjectId, string? Target, string? RemoteAddress, string? Detail);

public sealed record AuditPage(IReadOnlyList<AuditView> Events, string? Next);

public static class AuditApi
{
    /// <summary>More than other lists: an admin reading the log wants a screenful.</summary>
    public const int DefaultLimit = 100;

    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", (HttpContext http, IdentityModuleDbContext db, string? action, Guid? projectId, int? limit, long? marker) =>
            Query(db, http, action, projectId, limit, marker)).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Read the audit log")
            .WithDescription("Newest first; `action` (e.g. `signin.failed`) and `projectId` filter; paging with `limit` (1-1000, default 100) " +
                "and `marker` (the id of the last event seen).")
            .Produces<AuditPage>().ProducesProblems(400);
        // A project admin sees what happened in their project.
        api.MapGet("/projects/{projectId:guid}/audit", (Guid projectId, HttpContext http, IdentityModuleDbContext db, string? action, int? limit, long? marker) =>
            Query(db, http, action, projectId, limit, marker)).RequireAuthorization(CloudPolicies.Admin)
            .WithSummary("Read a project's audit log")
            .WithDescription("Newest first; `action` filters; paging with `limit` (1-1000, default 100) and `marker` (the id of the last event seen).")
            .Produces<AuditPage>().ProducesProblems(400);
        return api;
    }

    private static async Task<IResult> Query(IdentityModuleDbContext db, HttpContext http, string? action, Guid? projectId, int? limit, long? marker)
    {
        if (Paging.PageSize(limit ?? DefaultLimit, out var pageSize) is { } problem)
            return problem;
        var events = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrEmpty(action))
            events = events.Where(e => e.Action == action);
        if (projectId is not null)
            events = events.Where(e => e.ProjectId == projectId);
        // Ids only grow: the marker is a position in the log, whether or not the filters keep its event.
        if (marker is not null)
            events = events.Where(e => e.Id < marker);
        var page = await events.OrderByDescending(e => e.Id).Take(pageSize + 1).ToListAsync(http.RequestAborted);
        var next = Paging.Next(page, pageSize, http.Request, e => e.Id.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new AuditPage(
            page.Select(e => new AuditView(e.Id, e.At, e.Action, e.Success, e.ActorId, e.ActorName, e.ProjectId, e.Target, e.RemoteAddress, e.Detail)).ToList(), next));
    }
}
