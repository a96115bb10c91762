using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudPortal.Compute.Access;

/// <summary>
/// Where a request acts: one project (named by the <c>CloudPortal-Project</c> header, with the caller's role there), or
/// every project (a cloud admin who named none).
/// </summary>
public sealed record Scope(Caller Caller, Guid? Project)
{
    public bool AllProjects => Project is null;

    /// <summary>Whether a resource of <paramref name="projectId"/> is inside this scope (outside it, it does not exist).</summary>
    public bool Sees(Guid projectId) => Project is null || Project == projectId;
}

/// <summary>
/// Who may do what in Compute. Every tenant resource belongs to one project; a resource outside the caller's scope is
/// a 404, never a 403, so ids do not leak across projects. A 403 is only ever about the caller's own role: no role in
/// the project they named, or a reader asking to change something.
/// </summary>
public static class ComputeAccess
{
    /// <summary>
    /// The scope of a request that needs at least <paramref name="minimum"/> in its project. Cloud admins may name no
    /// project (then they act across projects) unless <paramref name="projectRequired"/> (creating something).
    /// </summary>
    public static ProblemHttpResult? Resolve(HttpContext http, ProjectRole minimum, bool projectRequired, out Scope scope)
    {
        var caller = Caller.From(http);
        scope = new Scope(caller, caller.ProjectId);
        if (caller.ProjectId is not { } project)
        {
            return caller.IsCloudAdmin && !projectRequired
                ? null
                : Problems.BadRequest("project_required", "Project required", $"Name the project you act in with the {CloudClaims.ProjectHeader} header.");
        }
        if (caller.RoleIn(project) is not { } role)
            return Problems.Forbidden("not_a_project_member", "Not a member of the project", $"You hold no role in project {project}.");
        if (role < minimum)
            return Problems.Forbidden("read_only_role", "Read-only role", $"Your role in project {project} is {role.ToString().ToLowerInvariant()}; this needs {minimum.ToString().ToLowerInvariant()}.");
        return null;
    }

    /// <summary><c>allProjects=true</c>: a cloud admin's scope widens to every project; anyone else is refused.</summary>
    public static ProblemHttpResult? AllProjects(ref Scope scope, bool? allProjects, string what)
    {
        if (allProjects != true)
            return null;
        if (!scope.Caller.IsCloudAdmin)
            return Problems.Forbidden("all_projects_requires_admin", "Cloud admins only", $"Only cloud admins can {what}.");
        scope = scope with { Project = null };
        return null;
    }

    public static ProblemHttpResult? Read(HttpContext http, out Scope scope) => Resolve(http, ProjectRole.Reader, projectRequired: false, out scope);

    public static ProblemHttpResult? Change(HttpContext http, out Scope scope) => Resolve(http, ProjectRole.Member, projectRequired: false, out scope);

    public static ProblemHttpResult? Create(HttpContext http, out Scope scope) => Resolve(http, ProjectRole.Member, projectRequired: true, out scope);
}
