using System.Text.RegularExpressions;
using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Projects;

public sealed record ProjectView(Guid Id, string Name, string? Description, bool Enabled, DateTime CreatedAt, string? Role);

public sealed record ProjectPage(IReadOnlyList<ProjectView> Projects, string? Next);

public sealed record CreateProject(string? Name, string? Description);

public sealed record UpdateProject(string? Description, bool? Enabled);

public static partial class ProjectsApi
{
    public static RouteGroupBuilder MapProjects(this RouteGroupBuilder api)
    {
        api.MapGet("/projects", List)
            .WithSummary("List projects")
            .WithDescription("A cloud admin sees every project; anyone else the projects they hold a role in, with that `role`. " +
                "By name; paging with `limit` and `marker` (a project id).")
            .Produces<ProjectPage>().ProducesProblems(400);
        api.MapPost("/projects", Create).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Create a project")
            .WithDescription("`name`: 1-64 of `A-Za-z0-9._-`, starting with a letter or digit, unique.")
            .Produces<ProjectView>(StatusCodes.Status201Created)
            .ProducesProblems(400, 409);
        api.MapGet("/projects/{projectId:guid}", Get).RequireAuthorization(CloudPolicies.Reader)
            .WithSummary("Show a project")
            .Produces<ProjectView>()
            .ProducesProblems(404);
        api.MapPatch("/projects/{projectId:guid}", Update).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Change a project's description or enable/disable it")
            .WithDescription("A disabled project gives no roles in new tokens.")
            .Produces<ProjectView>()
            .ProducesProblems(404);
        api.MapDelete("/projects/{projectId:guid}", Delete).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Delete a project")
            .WithDescription("Removes its role assignments, quota overrides and access keys.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404);
        return api;
    }

    /// <summary>A cloud admin sees every project; anyone else the projects they hold a role in.</summary>
    private static async Task<IResult> List(HttpContext http, IdentityModuleDbContext db, int? limit, Guid? marker)
    {
        var caller = Caller.From(http);
        var mine = caller.Projects.ToList();
        var page = await db.Projects.AsNoTracking()
            .Where(p => caller.IsCloudAdmin || mine.Contains(p.Id))
            .PageByAsync(p => p.Name, marker is null ? null : p => p.Id == marker, p => p.Id.ToString(), http.Request, limit, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new ProjectPage(page.Items.Select(p => View(p, caller)).ToList(), page.Next));
    }

    private static async Task<IResult> Create(CreateProject body, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time)
    {
        var name = body.Name?.Trim() ?? "";
        if (!ValidName().IsMatch(name))
            return Problems.BadRequest("invalid_project_name", "Invalid project name", "A project name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (await db.Projects.AnyAsync(p => p.Name == name, http.RequestAborted))
            return Problems.Conflict("project_name_taken", "Project name taken", $"A project named '{name}' already exists.");

        var project = new Project { Id = Guid.NewGuid(), Name = name, Description = body.Description?.Trim(), CreatedAt = time.GetUtcNow().UtcDateTime };
        db.Projects.Add(project);
        audit.Record("project.created", success: true, target: name, projectId: project.Id);
        try
        {
            await db.SaveChangesAsync(http.RequestAborted);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("project_name_taken", "Project name taken", $"A project named '{name}' already exists.");
        }
        return TypedResults.Created($"/identity/v1/projects/{project.Id}", View(project, Caller.From(http)));
    }

    private static async Task<IResult> Get(Guid projectId, HttpContext http, IdentityModuleDbContext db)
    {
        var project = await db.Projects.AsNoTracking().SingleOrDefaultAsync(p => p.Id == projectId, http.RequestAborted);
        return project is null ? NotFound(projectId) : TypedResults.Ok(View(project, Caller.From(http)));
    }

    private static async Task<IResult> Update(Guid projectId, UpdateProject body, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time)
    {
        await using var transaction = await ProjectStatusLock.BeginAsync(db, http.RequestAborted);
        var project = await db.Projects.SingleOrDefaultAsync(p => p.Id == projectId, http.RequestAborted);
        if (project is null)
            return NotFound(projectId);
        if (body.Description is not null)
            project.Description = body.Description.Trim();
        if (body.Enabled is { } enabled && enabled != project.Enabled)
        {
            project.Enabled = enabled;
            // Every process serving project resources stops (or resumes) honouring the roles already issued tokens carry.
            db.Outbox.Publish(new ProjectStatusChanged(projectId, enabled, time.GetUtcNow()));
        }
        audit.Record("project.updated", success: true, target: project.Name, projectId: projectId,
            detail: body.Enabled is null ? null : $"enabled={body.Enabled}");
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        return TypedResults.Ok(View(project, Caller.From(http)));
    }

    private static async Task<IResult> Delete(Guid projectId, HttpContext http, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        var project = await db.Projects.SingleOrDefaultAsync(p => p.Id == projectId, http.RequestAborted);
        if (project is null)
            return NotFound(projectId);
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        // Deleting the project removes its role assignments: each member loses a role, as with DELETE .../members/{userId}.
        var members = await db.RoleAssignments.Where(a => a.ProjectId == projectId).Select(a => a.UserId).ToListAsync(http.RequestAborted);
        db.Projects.Remove(project);
        foreach (var member in members)
            await sessions.RevokeAsync(member, UserSessions.RoleRemoved, http.RequestAborted);
        audit.Record("project.deleted", success: true, target: project.Name, projectId: projectId);
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return TypedResults.NoContent();
    }

    internal static IResult NotFound(Guid projectId) =>
        Problems.NotFound("project_not_found", "Project not found", $"No project {projectId}.");

    private static ProjectView View(Project p, Caller caller) =>
        new(p.Id, p.Name, p.Description, p.Enabled, p.CreatedAt, caller.RoleIn(p.Id)?.ToString().ToLowerInvariant());

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex ValidName();
}
