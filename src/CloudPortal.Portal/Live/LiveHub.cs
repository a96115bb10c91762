using CloudPortal.Portal.Api;
using CloudPortal.Portal.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace CloudPortal.Portal.Live;

/// <summary>
/// Pushes instance state changes to the pages of signed-in users: each connection joins the groups of the projects
/// its user has a role in (cloud admins also the all-projects group). The pages then re-read what changed through
/// the API; the push only says when.
/// </summary>
[Authorize(Policy = PortalAuthentication.Policy)]
public sealed class LiveHub : Hub
{
    public const string Path = "/live";
    public const string AllProjects = "all-projects";

    public static string ProjectGroup(Guid projectId) => $"project:{projectId:D}";

    public override async Task OnConnectedAsync()
    {
        var user = Context.User ?? new System.Security.Claims.ClaimsPrincipal();
        foreach (var project in ProjectContext.RolesOf(user))
            await Groups.AddToGroupAsync(Context.ConnectionId, ProjectGroup(project.ProjectId));
        if (user.HasClaim(CloudPortal.ServiceDefaults.Security.CloudClaims.CloudAdmin, "true"))
            await Groups.AddToGroupAsync(Context.ConnectionId, AllProjects);
        await base.OnConnectedAsync();
    }
}
