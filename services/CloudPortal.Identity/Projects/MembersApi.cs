using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Projects;

public sealed record MemberView(Guid UserId, string UserName, string Role);

public sealed record MemberPage(IReadOnlyList<MemberView> Members, string? Next);

public sealed record AssignRole(string? Role);

/// <summary>Role assignments: readers may see who is in their project; project admins (and cloud admins) change it.</summary>
public static class MembersApi
{
    public static RouteGroupBuilder MapMembers(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/members", List).RequireAuthorization(CloudPolicies.Reader)
            .WithSummary("List a project's members and their roles")
            .WithDescription("By user name; paging with `limit` and `marker` (a user id).")
            .Produces<MemberPage>()
            .ProducesProblems(400, 404);
        api.MapPut("/projects/{projectId:guid}/members/{userId:guid}", Assign).RequireAuthorization(CloudPolicies.Admin)
            .WithSummary("Give a user a role in a project")
            .WithDescription("`role`: `reader`, `member` or `admin`; replaces the user's current role there. Takes effect in the user's next token.")
            .Produces<MemberView>()
            .ProducesProblems(400, 404);
        api.MapDelete("/projects/{projectId:guid}/members/{userId:guid}", Revoke).RequireAuthorization(CloudPolicies.Admin)
            .WithSummary("Remove a user from a project")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404);
        return api;
    }

    private static async Task<IResult> List(Guid projectId, HttpContext http, IdentityModuleDbContext db, int? limit, Guid? marker)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, http.RequestAborted))
            return ProjectsApi.NotFound(projectId);
        var page = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.ProjectId == projectId)
            .Join(db.Users, a => a.UserId, u => u.Id, (a, u) => new { u.Id, UserName = u.UserName!, a.Role })
            .PageByAsync(m => m.UserName, marker is null ? null : m => m.Id == marker, m => m.Id.ToString(), http.Request, limit, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new MemberPage(
            page.Items.Select(m => new MemberView(m.Id, m.UserName, m.Role.ToString().ToLowerInvariant())).ToList(), page.Next));
    }

    private static async Task<IResult> Assign(Guid projectId, Guid userId, AssignRole body, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time)
    {
        if (!Enum.TryParse<ProjectRole>(body.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role) || int.TryParse(body.Role, out _))
            return Problems.BadRequest("invalid_role", "Invalid role", "The role must be one of: reader, member, admin.");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, http.RequestAborted))
            return ProjectsApi.NotFound(projectId);
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, http.RequestAborted);
        if (user is null)
            return Problems.NotFound("user_not_found", "User not found", $"No user {userId}.");

        var assignment = await db.RoleAssignments.SingleOrDefaultAsync(a => a.ProjectId == projectId && a.UserId == userId, http.RequestAborted);
        if (assignment is null)
            db.RoleAssignments.Add(assignment = new RoleAssignment { ProjectId = projectId, UserId = userId, Role = role, AssignedAt = time.GetUtcNow().UtcDateTime });
        else
            assignment.Role = role;
        audit.Record("role.assigned", success: true, target: user.UserName, projectId: projectId, detail: $"role={role.ToString().ToLowerInvariant()}");
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(new MemberView(userId, user.UserName!, role.ToString().ToLowerInvariant()));
    }

    private static async Task<IResult> Revoke(Guid projectId, Guid userId, HttpContext http, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        var assignment = await db.RoleAssignments.SingleOrDefaultAsync(a => a.ProjectId == projectId && a.UserId == userId, http.RequestAborted);
        if (assignment is null)
            return Problems.NotFound("member_not_found", "Not a member", $"User {userId} has no role in project {projectId}.");
        var userName = await db.Users.Where(u => u.Id == userId).Select(u => u.UserName).SingleOrDefaultAsync(http.RequestAborted);
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        db.RoleAssignments.Remove(assignment);
        // Every token of the user, not only those naming the project: a user's tokens carry all their roles (ADR 0006).
        await sessions.RevokeAsync(userId, UserSessions.RoleRemoved, http.RequestAborted);
        audit.Record("role.revoked", success: true, target: userName, projectId: projectId, detail: $"role={assignment.Role.ToString().ToLowerInvariant()}");
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return TypedResults.NoContent();
    }
}
