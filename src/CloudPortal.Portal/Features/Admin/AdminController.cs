using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.Instances;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Projects;
using CloudPortal.Identity.Quotas;
using CloudPortal.Identity.Users;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Auth;
using CloudPortal.Portal.Features.Instances;
using CloudPortal.Portal.Features.Shared;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.ServiceDefaults.Messaging.DeadLetters;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Portal.Features.Admin;

public sealed record ProjectsModel(IReadOnlyList<ProjectView> Projects, string? Error);

public sealed record ProjectModel(ProjectView Project, IReadOnlyList<MemberView> Members, IReadOnlyList<UserView> Users, ProjectQuota Quota, string? Error);

public sealed record UsersModel(IReadOnlyList<UserView> Users, string? Error);

public sealed record FlavorsModel(IReadOnlyList<FlavorView> Flavors, string? Error);

public sealed record HostsModel(IReadOnlyList<HostSummary> Hosts, string? Error);

public sealed record DeadLettersModel(IReadOnlyList<DeadLetterView> DeadLetters, string? Error);

public sealed record AuditModel(IReadOnlyList<AuditView> Events, string? Action, Guid? ProjectId);

/// <summary>
/// The cloud admins' area: projects with their members and quota (limits edited next to usage), users, flavors,
/// compute hosts, instances across projects, the audit log, the dead letters. The page refuses non-admins, and so does every API behind it.
/// </summary>
[Authorize(Policy = PortalAuthentication.CloudAdminPolicy)]
public sealed class AdminController : PortalController
{
    /// <summary>The modules whose processes the portal knows; each process lists its own outboxes and the bus's error queues.</summary>
    private static readonly string[] DeadLetterModules = ["identity", "compute", "images", "scheduler"];

    [HttpGet("/admin")]
    public IActionResult Index() => View();

    [HttpGet("/admin/projects")]
    public async Task<IActionResult> ProjectList(CancellationToken cancellationToken) => View("Projects", await ProjectsModelAsync(null, cancellationToken));

    [HttpPost("/admin/projects")]
    public async Task<IActionResult> CreateProject([FromForm] string? name, [FromForm] string? description, CancellationToken cancellationToken)
    {
        try
        {
            var project = await Api.SendAsync<ProjectView>(HttpMethod.Post, "identity", "identity/v1/projects", new CreateProject(name, description), cancellationToken);
            Forget();
            return Done($"Project {project.Name} created.", "Project", new { id = project.Id });
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 409)
        {
            Response.StatusCode = 422;
            return View("Projects", await ProjectsModelAsync(refusal.Message, cancellationToken));
        }
    }

    [HttpGet("/admin/projects/{id:guid}")]
    public async Task<IActionResult> Project(Guid id, CancellationToken cancellationToken) =>
        await ProjectModelAsync(id, null, cancellationToken) is { } model ? View(model) : NotFoundPage();

    [HttpPost("/admin/projects/{id:guid}/{operation:regex(^(enable|disable|delete)$)}")]
    public async Task<IActionResult> ChangeProject(Guid id, string operation, CancellationToken cancellationToken)
    {
        if (operation == "delete")
        {
            await Api.SendAsync(HttpMethod.Delete, "identity", $"identity/v1/projects/{id}", null, cancellationToken);
            Forget();
            return Done("Project deleted.", nameof(ProjectList));
        }
        await Api.SendAsync(HttpMethod.Patch, "identity", $"identity/v1/projects/{id}", new UpdateProject(null, operation == "enable"), cancellationToken);
        return Done($"Project {operation}d.", "Project", new { id });
    }

    /// <summary>Adds a member: an existing user, or a new one created here with a first password.</summary>
    [HttpPost("/admin/projects/{id:guid}/members")]
    public async Task<IActionResult> AddMember(Guid id, [FromForm] Guid? userId, [FromForm] string? newUserName, [FromForm] string? newPassword,
        [FromForm] string role, CancellationToken cancellationToken)
    {
        try
        {
            if (userId is null && !string.IsNullOrWhiteSpace(newUserName))
                userId = (await Api.SendAsync<UserView>(HttpMethod.Post, "identity", "identity/v1/users", new CreateUser(newUserName, newPassword, null, null), cancellationToken)).Id;
            if (userId is null)
                throw new ApiException(400, "user_required", "Choose a user, or give a new user's name and password.");
            await Api.SendAsync(HttpMethod.Put, "identity", $"identity/v1/projects/{id}/members/{userId}", new AssignRole(role), cancellationToken);
            return Done("Member added.", "Project", new { id });
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 409)
        {
            Response.StatusCode = 422;
            return await ProjectModelAsync(id, refusal.Message, cancellationToken) is { } model ? View("Project", model) : NotFoundPage();
        }
    }

    [HttpPost("/admin/projects/{id:guid}/members/{userId:guid}/remove")]
    public async Task<IActionResult> RemoveMember(Guid id, Guid userId, CancellationToken cancellationToken)
    {
        await Api.SendAsync(HttpMethod.Delete, "identity", $"identity/v1/projects/{id}/members/{userId}", null, cancellationToken);
        return Done("Member removed.", "Project", new { id });
    }

    /// <summary>A project's limit; an empty value goes back to the default.</summary>
    [HttpPost("/admin/projects/{id:guid}/quota/{resource}")]
    public async Task<IActionResult> SetQuota(Guid id, string resource, [FromForm] string? limit, CancellationToken cancellationToken)
    {
        try
        {
            if (string.IsNullOrWhiteSpace(limit))
                await Api.SendAsync(HttpMethod.Delete, "identity", $"identity/v1/projects/{id}/quota/{Uri.EscapeDataString(resource)}", null, cancellationToken);
            else if (long.TryParse(limit, out var value))
                await Api.SendAsync(HttpMethod.Put, "identity", $"identity/v1/projects/{id}/quota/{Uri.EscapeDataString(resource)}", new { limit = value }, cancellationToken);
            else
                throw new ApiException(400, "invalid_quota_value", $"'{limit}' is not a whole number.");
            return Done($"{Labels.Resource(resource)} quota saved.", "Project", new { id });
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 404 or 409)
        {
            Response.StatusCode = 422;
            return await ProjectModelAsync(id, refusal.Message, cancellationToken) is { } model ? View("Project", model) : NotFoundPage();
        }
    }

    [HttpGet("/admin/users")]
    public async Task<IActionResult> UserList(CancellationToken cancellationToken) => View("Users", await UsersModelAsync(null, cancellationToken));

    [HttpPost("/admin/users")]
    public Task<IActionResult> CreateUser([FromForm] string? userName, [FromForm] string? password, [FromForm] string? email, [FromForm] bool cloudAdmin,
        CancellationToken cancellationToken) =>
        ChangeAsync(() => Api.SendAsync(HttpMethod.Post, "identity", "identity/v1/users", new CreateUser(userName, password, email, null, cloudAdmin), cancellationToken),
            $"User {userName} created.", nameof(UserList), async error => View("Users", await UsersModelAsync(error, cancellationToken)));

    [HttpPost("/admin/users/{id:guid}/password")]
    public Task<IActionResult> ResetPassword(Guid id, [FromForm] string? newPassword, CancellationToken cancellationToken) =>
        ChangeAsync(() => Api.SendAsync(HttpMethod.Post, "identity", $"identity/v1/users/{id}/password", new { newPassword }, cancellationToken),
            "Password reset.", nameof(UserList), async error => View("Users", await UsersModelAsync(error, cancellationToken)));

    [HttpPost("/admin/users/{id:guid}/{operation:regex(^(unlock|delete)$)}")]
    public async Task<IActionResult> ChangeUser(Guid id, string operation, CancellationToken cancellationToken)
    {
        try
        {
            if (operation == "unlock")
                await Api.SendAsync(HttpMethod.Post, "identity", $"identity/v1/users/{id}/unlock", null, cancellationToken);
            else
                await Api.SendAsync(HttpMethod.Delete, "identity", $"identity/v1/users/{id}", null, cancellationToken);
            return Done($"User {operation}ed.", nameof(UserList));
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 409)
        {
            return Done(refusal.Message, nameof(UserList));
        }
    }

    [HttpGet("/admin/flavors")]
    public async Task<IActionResult> Flavors(CancellationToken cancellationToken) => View(await FlavorsModelAsync(null, cancellationToken));

    [HttpPost("/admin/flavors")]
    public Task<IActionResult> CreateFlavor([FromForm] string? name, [FromForm] int vcpus, [FromForm] int ramMb, [FromForm] int diskGb, [FromForm] bool isPublic,
        CancellationToken cancellationToken) =>
        ChangeAsync(() => Api.SendAsync(HttpMethod.Post, "compute", "compute/v1/flavors", new { name, vcpus, ramMb, diskGb, isPublic }, cancellationToken),
            $"Flavor {name} created.", nameof(Flavors), async error => View("Flavors", await FlavorsModelAsync(error, cancellationToken)));

    [HttpPost("/admin/flavors/{id:guid}/delete")]
    public async Task<IActionResult> DeleteFlavor(Guid id, CancellationToken cancellationToken)
    {
        await Api.SendAsync(HttpMethod.Delete, "compute", $"compute/v1/flavors/{id}", null, cancellationToken);
        return Done("Flavor deleted.", "Flavors");
    }

    [HttpPost("/admin/flavors/{id:guid}/access")]
    public async Task<IActionResult> GrantFlavor(Guid id, [FromForm] Guid projectId, CancellationToken cancellationToken)
    {
        try
        {
            await Api.SendAsync(HttpMethod.Put, "compute", $"compute/v1/flavors/{id}/access/{projectId}", null, cancellationToken);
            return Done("Access granted.", "Flavors");
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 404 or 409)
        {
            return Done(refusal.Message, "Flavors");
        }
    }

    [HttpGet("/admin/hosts")]
    public async Task<IActionResult> Hosts(CancellationToken cancellationToken) => View(await HostsModelAsync(null, cancellationToken));

    [HttpPost("/admin/hosts/{host}/{operation:regex(^(enable|disable|change)$)}")]
    public async Task<IActionResult> ChangeHost(string host, string operation, [FromForm] string? reason, [FromForm] double? cpuAllocationRatio,
        [FromForm] double? ramAllocationRatio, [FromForm] string? availabilityZone, CancellationToken cancellationToken)
    {
        var path = $"scheduler/v1/hosts/{Uri.EscapeDataString(host)}";
        try
        {
            switch (operation)
            {
                case "disable":
                    await Api.SendAsync(HttpMethod.Post, "scheduler", $"{path}/disable", new DisableHost(reason), cancellationToken);
                    break;
                case "enable":
                    await Api.SendAsync(HttpMethod.Post, "scheduler", $"{path}/enable", null, cancellationToken);
                    break;
                default:
                    await Api.SendAsync(HttpMethod.Patch, "scheduler", path, new ChangeHost(cpuAllocationRatio, ramAllocationRatio, null, null, null, null,
                        string.IsNullOrWhiteSpace(availabilityZone) ? null : availabilityZone), cancellationToken);
                    break;
            }
            return Done($"Host {host}: {operation} done.", "Hosts");
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 404 or 409)
        {
            Response.StatusCode = 422;
            return View("Hosts", await HostsModelAsync(refusal.Message, cancellationToken));
        }
    }

    [HttpGet("/admin/instances")]
    public async Task<IActionResult> Instances(string? status, bool partial, CancellationToken cancellationToken)
    {
        var query = $"compute/v1/instances?allProjects=true&limit=100{(status is null ? "" : $"&status={Uri.EscapeDataString(status)}")}";
        var page = await Api.GetAsync<InstancePage>("compute", query, cancellationToken);
        var model = new InstanceListModel(page.Instances, status, null, AllProjects: true, CanChange: false);
        return partial ? PartialView("~/Features/Instances/_List.cshtml", model) : View(model);
    }

    [HttpGet("/admin/audit")]
    public async Task<IActionResult> Audit(string? action, Guid? projectId, CancellationToken cancellationToken)
    {
        var query = $"identity/v1/audit?limit=200{(string.IsNullOrWhiteSpace(action) ? "" : $"&action={Uri.EscapeDataString(action)}")}{(projectId is null ? "" : $"&projectId={projectId}")}";
        return View(new AuditModel((await Api.GetAsync<AuditPage>("identity", query, cancellationToken)).Events, action, projectId));
    }

    [HttpGet("/admin/dead-letters")]
    public async Task<IActionResult> DeadLetters(CancellationToken cancellationToken) => View(await DeadLettersModelAsync(null, cancellationToken));

    /// <summary>Replays or discards one dead letter, at the process that holds it (an outbox row: its module's; a queue message: any).</summary>
    [HttpPost("/admin/dead-letters/{operation:regex(^(replay|discard)$)}")]
    public async Task<IActionResult> ChangeDeadLetter(string operation, [FromForm] string id, CancellationToken cancellationToken)
    {
        var path = $"messaging/v1/dead-letters/{Uri.EscapeDataString(id)}";
        var module = id.Split(':') is ["outbox", var name, _] ? name : DeadLetterModules[0];
        try
        {
            if (operation == "replay")
                await Api.SendAsync(HttpMethod.Post, module, $"{path}/replay", null, cancellationToken);
            else
                await Api.SendAsync(HttpMethod.Delete, module, path, null, cancellationToken);
            return Done(operation == "replay" ? $"{id} replayed." : $"{id} discarded.", nameof(DeadLetters));
        }
        catch (ApiException refusal) when (refusal.Status is 404 or 409 or 503)
        {
            Response.StatusCode = 422;
            return View("DeadLetters", await DeadLettersModelAsync(refusal.Message, cancellationToken));
        }
    }

    private async Task<DeadLettersModel> DeadLettersModelAsync(string? error, CancellationToken cancellationToken)
    {
        var pages = Api.OnePerProcess(DeadLetterModules)
            .Select(module => Api.GetAsync<DeadLetterPage>(module, "messaging/v1/dead-letters?limit=1000", cancellationToken)).ToList();
        try
        {
            await Task.WhenAll(pages);
        }
        catch (ApiException refusal) when (refusal.Status == 503)
        {
            error ??= refusal.Message;
        }
        // The broker's error queues are the same from every process: one row each.
        var letters = pages.Where(p => p.IsCompletedSuccessfully).SelectMany(p => p.Result.DeadLetters)
            .DistinctBy(d => d.Id).OrderBy(d => d.FailedAt).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
        return new DeadLettersModel(letters, error);
    }

    private async Task<ProjectsModel> ProjectsModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<ProjectPage>("identity", "identity/v1/projects?limit=1000", cancellationToken)).Projects, error);

    private async Task<ProjectModel?> ProjectModelAsync(Guid id, string? error, CancellationToken cancellationToken)
    {
        var project = await Api.FindAsync<ProjectView>("identity", $"identity/v1/projects/{id}", cancellationToken);
        if (project is null)
            return null;
        var members = Api.GetAsync<MemberPage>("identity", $"identity/v1/projects/{id}/members?limit=1000", cancellationToken);
        var users = Api.GetAsync<UserPage>("identity", "identity/v1/users?limit=1000", cancellationToken);
        var quota = Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{id}/quota", cancellationToken);
        await Task.WhenAll(members, users, quota);
        return new ProjectModel(project, members.Result.Members, users.Result.Users, quota.Result, error);
    }

    private async Task<UsersModel> UsersModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<UserPage>("identity", "identity/v1/users?limit=1000", cancellationToken)).Users, error);

    private async Task<FlavorsModel> FlavorsModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<FlavorPage>("compute", "compute/v1/flavors?limit=1000", cancellationToken)).Flavors, error);

    private async Task<HostsModel> HostsModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<HostPage>("scheduler", "scheduler/v1/hosts?limit=1000", cancellationToken)).Hosts, error);

    // A new project or a deleted one changes the admin's own list of projects in the header.
    private void Forget() => HttpContext.RequestServices.GetRequiredService<MeDirectory>().Forget();
}
