using System.Security.Claims;

namespace CloudPortal.ServiceDefaults.Security;

/// <summary>Roles within one project; each includes the rights of the ones below it.</summary>
public enum ProjectRole
{
    Reader = 1,
    Member = 2,
    Admin = 3,
}

/// <summary>The claims CloudPortal puts in its access tokens (issued by the Identity module).</summary>
public static class CloudClaims
{
    /// <summary>One value per project the user has a role in: <c>{projectId}:{role}</c>.</summary>
    public const string ProjectRole = "cp_project_role";

    /// <summary>Present (value <c>true</c>) for cloud administrators.</summary>
    public const string CloudAdmin = "cp_cloud_admin";

    /// <summary>Present on tokens issued to a service or agent through client credentials.</summary>
    public const string Service = "cp_service";

    public const string Subject = "sub";

    public const string Name = "name";

    /// <summary>How a request names the project it acts in when its route has no <c>{projectId}</c>.</summary>
    public const string ProjectHeader = "CloudPortal-Project";

    public static string FormatProjectRole(Guid projectId, ProjectRole role) =>
        $"{projectId:D}:{role.ToString().ToLowerInvariant()}";

    public static IReadOnlyDictionary<Guid, ProjectRole> ProjectRoles(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var roles = new Dictionary<Guid, ProjectRole>();
        foreach (var claim in principal.FindAll(ProjectRole))
        {
            var parts = claim.Value.Split(':', 2);
            if (parts.Length == 2 && Guid.TryParse(parts[0], out var project) && Enum.TryParse<ProjectRole>(parts[1], ignoreCase: true, out var role))
                roles[project] = roles.TryGetValue(project, out var existing) && existing > role ? existing : role;
        }
        return roles;
    }
}
