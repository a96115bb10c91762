using CloudPortal.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CloudPortal.ServiceDefaults.Security;

/// <summary>Marks an endpoint whose route <c>{projectId}</c> is the project that owns what it serves.</summary>
public sealed class ProjectResourceMetadata
{
    public static readonly ProjectResourceMetadata Instance = new();

    private ProjectResourceMetadata()
    {
    }
}

public static class ProjectResources
{
    /// <summary>
    /// Every endpoint of the group with a <c>{projectId}</c> in its route serves that project's resources: a caller with
    /// no role in it is told it does not exist (404 <c>project_not_found</c>), never that it is forbidden, so project ids
    /// do not leak. A caller inside the project whose role is too low still gets 403.
    /// </summary>
    public static RouteGroupBuilder ProjectIdRoutesAreProjectResources(this RouteGroupBuilder group)
    {
        ArgumentNullException.ThrowIfNull(group);
        ((IEndpointConventionBuilder)group).Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder route && route.RoutePattern.Parameters.Any(p => p.Name == "projectId"))
                endpoint.Metadata.Add(ProjectResourceMetadata.Instance);
        });
        return group;
    }
}

/// <summary>Turns a refusal on a project resource into a 404 when the caller is outside that project.</summary>
internal sealed class ProjectResourceResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden
            && context.GetEndpoint()?.Metadata.GetMetadata<ProjectResourceMetadata>() is not null
            && Caller.From(context) is { ProjectId: { } project } caller
            && caller.RoleIn(project) is null)
        {
            await Problems.NotFound("project_not_found", "Project not found", $"No project {project}.").ExecuteAsync(context);
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
