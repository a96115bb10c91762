using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Audit;

public sealed record AuditView(long Id, DateTime At, string Action, bool Success, Guid? ActorId, string? ActorName, Guid? ProjectId, string? Target, string? RemoteAddress, string? Detail);

public static class AuditApi
{
    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        api.MapGet("/audit", (HttpContext http, IdentityModuleDbContext db, string? action, Guid? projectId, int? limit) =>
            Query(db, http, action, projectId, limit)).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Read the audit log")
            .WithDescription("Newest first; `action` (e.g. `signin.failed`) and `projectId` filter, `limit` is 1-1000 (default 100).")
            .Produces<IEnumerable<AuditView>>();
        // A project admin sees what happened in their project.
        api.MapGet("/projects/{projectId:guid}/audit", (Guid projectId, HttpContext http, IdentityModuleDbContext db, string? action, int? limit) =>
            Query(db, http, action, projectId, limit)).RequireAuthorization(CloudPolicies.Admin)
            .WithSummary("Read a project's audit log")
            .WithDescription("Newest first; `action` filters, `limit` is 1-1000 (default 100).")
            .Produces<IEnumerable<AuditView>>();
        return api;
    }

    private static async Task<IResult> Query(IdentityModuleDbContext db, HttpContext http, string? action, Guid? projectId, int? limit)
    {
        var events = db.AuditEvents.AsNoTracking();
        if (!string.IsNullOrEmpty(action))
            events = events.Where(e => e.Action == action);
        if (projectId is not null)
            events = events.Where(e => e.ProjectId == projectId);
        var page = await events.OrderByDescending(e => e.Id).Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(http.RequestAborted);
        return TypedResults.Ok(page.Select(e => new AuditView(e.Id, e.At, e.Action, e.Success, e.ActorId, e.ActorName, e.ProjectId, e.Target, e.RemoteAddress, e.Detail)));
    }
}
