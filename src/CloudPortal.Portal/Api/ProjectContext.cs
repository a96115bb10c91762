using System.Security.Claims;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Http;

namespace CloudPortal.Portal.Api;

/// <summary>A project the user has a role in, from the role claims of their access token.</summary>
public sealed record ProjectRoleClaim(Guid ProjectId, ProjectRole Role);

/// <summary>
/// The project the user acts in: the one named by the switcher's cookie when the user still has a role in it,
/// else the first of their projects. Roles come from the session's access token, which Identity refreshes, so a
/// role removed in Identity disappears here within a token's lifetime.
/// </summary>
public sealed class ProjectContext(IHttpContextAccessor http)
{
    public const string Cookie = "CloudPortal.Project";

    private ClaimsPrincipal User => http.HttpContext?.User ?? new ClaimsPrincipal();

    public bool CloudAdmin => User.HasClaim(CloudClaims.CloudAdmin, "true");

    public IReadOnlyList<ProjectRoleClaim> Projects => RolesOf(User);

    public static IReadOnlyList<ProjectRoleClaim> RolesOf(ClaimsPrincipal user) => user.FindAll(CloudClaims.ProjectRole)
        .Select(c => c.Value.Split(':', 2))
        .Where(p => p.Length == 2 && Guid.TryParse(p[0], out _) && Enum.TryParse<ProjectRole>(p[1], ignoreCase: true, out _))
        .Select(p => new ProjectRoleClaim(Guid.Parse(p[0]), Enum.Parse<ProjectRole>(p[1], ignoreCase: true)))
        .ToList();

    public ProjectRoleClaim? Current
    {
        get
        {
            var projects = Projects;
            var chosen = Guid.TryParse(http.HttpContext?.Request.Cookies[Cookie], out var id) ? projects.FirstOrDefault(p => p.ProjectId == id) : null;
            return chosen ?? (projects.Count > 0 ? projects[0] : null);
        }
    }

    public Guid? CurrentId => Current?.ProjectId;

    /// <summary>Members and admins change things; readers look.</summary>
    public bool CanChange => Current is { Role: ProjectRole.Member or ProjectRole.Admin };
}
