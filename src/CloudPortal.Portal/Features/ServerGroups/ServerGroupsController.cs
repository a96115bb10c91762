using CloudPortal.Compute.ServerGroups;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.ServerGroups;

public sealed record ServerGroupsModel(IReadOnlyList<ServerGroupView> Groups, bool CanChange, string? Error);

/// <summary>Server groups: which instances the Scheduler keeps together or apart.</summary>
public sealed class ServerGroupsController : PortalController
{
    public static readonly string[] Policies = ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"];

    [HttpGet("/server-groups")]
    public async Task<IActionResult> Index(CancellationToken cancellationToken) => View(await ModelAsync(null, cancellationToken));

    [HttpPost("/server-groups")]
    public Task<IActionResult> Create([FromForm] string? name, [FromForm] string? policy, CancellationToken cancellationToken) =>
        ChangeAsync(() => Api.SendAsync(HttpMethod.Post, "compute", "compute/v1/server-groups", new { name, policy }, cancellationToken),
            $"Server group {name} created.", "Index", async error => View("Index", await ModelAsync(error, cancellationToken)));

    [HttpPost("/server-groups/{id:guid}/delete")]
    public async Task<IActionResult> Delete(Guid id, CancellationToken cancellationToken)
    {
        await Api.SendAsync(HttpMethod.Delete, "compute", $"compute/v1/server-groups/{id}", null, cancellationToken);
        return Done("Server group deleted.", "Index");
    }

    private async Task<ServerGroupsModel> ModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<ServerGroupPage>("compute", "compute/v1/server-groups?limit=1000", cancellationToken)).ServerGroups, Projects.CanChange, error);
}
