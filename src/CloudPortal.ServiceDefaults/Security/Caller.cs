using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.ServiceDefaults.Security;

/// <summary>
/// Who is calling and in which project: what handlers use to scope every query. Built from the
/// validated access token and the project the request names (route <c>{projectId}</c>, else the
/// <c>CloudPortal-Project</c> header).
/// </summary>
public sealed class Caller
{
    private readonly IReadOnlyDictionary<Guid, ProjectRole> _roles;

    private Caller(ClaimsPrincipal principal, Guid? projectId, DisabledProjects? disabled)
    {
        Principal = principal;
        // A disabled project's roles still ride in tokens issued before it was disabled: they count for nothing.
        _roles = disabled is null
            ? CloudClaims.ProjectRoles(principal)
            : CloudClaims.ProjectRoles(principal).Where(r => !disabled.IsDisabled(r.Key)).ToDictionary();
        UserId = Guid.TryParse(principal.FindFirstValue(CloudClaims.Subject), out var id) && !IsServiceToken(principal) ? id : null;
        Name = principal.FindFirstValue(CloudClaims.Name) ?? principal.FindFirstValue(CloudClaims.Subject) ?? "anonymous";
        IsCloudAdmin = principal.HasClaim(CloudClaims.CloudAdmin, "true");
        IsService = IsServiceToken(principal);
        ProjectId = projectId;
    }

    public ClaimsPrincipal Principal { get; }

    /// <summary>The user, or null for a service (client credentials) or anonymous caller.</summary>
    public Guid? UserId { get; }

    public string Name { get; }

    public bool IsCloudAdmin { get; }

    public bool IsService { get; }

    public bool IsAuthenticated => Principal.Identity?.IsAuthenticated == true;

    /// <summary>The project this request acts in, when it named one.</summary>
    public Guid? ProjectId { get; }

    /// <summary>The caller's role in the request's project (cloud admins act as project admins everywhere).</summary>
    public ProjectRole? Role => ProjectId is { } project ? RoleIn(project) : null;

    public ProjectRole? RoleIn(Guid projectId) =>
        IsCloudAdmin ? ProjectRole.Admin : _roles.TryGetValue(projectId, out var role) ? role : null;

    public bool Has(ProjectRole minimum, Guid projectId) => RoleIn(projectId) is { } role && role >= minimum;

    /// <summary>Projects the caller holds any role in (not every project for a cloud admin).</summary>
    public IReadOnlyCollection<Guid> Projects => _roles.Keys.ToList();

    public static Caller From(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.TryGetValue(typeof(Caller), out var cached) && cached is Caller caller)
            return caller;
        caller = new Caller(context.User, RequestedProject(context), context.RequestServices?.GetService<DisabledProjects>());
        context.Items[typeof(Caller)] = caller;
        return caller;
    }

    private static Guid? RequestedProject(HttpContext context)
    {
        if (context.Request.RouteValues.TryGetValue("projectId", out var routeValue) && Guid.TryParse(routeValue?.ToString(), out var fromRoute))
            return fromRoute;
        return Guid.TryParse(context.Request.Headers[CloudClaims.ProjectHeader].ToString(), out var fromHeader) ? fromHeader : null;
    }

    private static bool IsServiceToken(ClaimsPrincipal principal) => principal.HasClaim(CloudClaims.Service, "true");
}
