using CloudPortal.Compute.Consoles;
using CloudPortal.Compute.Instances;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.Instances;

public sealed record InstanceListModel(IReadOnlyList<InstanceView> Instances, string? Status, string? Next, bool AllProjects, bool CanChange);

public sealed record InstanceDetailModel(InstanceView Instance, IReadOnlyList<InstanceActionView> Actions, bool CanChange);

/// <summary>The project's instances: the live list, one instance with its actions and log, its console log and VNC console.</summary>
public sealed class InstancesController : PortalController
{
    [HttpGet("/instances")]
    public async Task<IActionResult> Index(string? status, string? marker, bool partial, CancellationToken cancellationToken)
    {
        var model = await ListAsync(status, marker, allProjects: false, cancellationToken);
        return partial ? PartialView("_List", model) : View(model);
    }

    [HttpGet("/instances/{id:guid}")]
    public async Task<IActionResult> Details(Guid id, bool partial, CancellationToken cancellationToken)
    {
        var instance = await Api.FindAsync<InstanceView>("compute", $"compute/v1/instances/{id}", cancellationToken);
        if (instance is null)
            return NotFoundPage();
        var actions = await Api.GetAsync<InstanceActionPage>("compute", $"compute/v1/instances/{id}/actions?limit=50", cancellationToken);
        var model = new InstanceDetailModel(instance, actions.Actions, Projects.CanChange);
        return partial ? PartialView("_Detail", model) : View(model);
    }

    [HttpPost("/instances/{id:guid}/actions/{operation}")]
    public async Task<IActionResult> Act(Guid id, string operation, [FromForm] string? type, [FromForm] string? returnUrl, CancellationToken cancellationToken)
    {
        try
        {
            if (operation == "delete")
                await Api.SendAsync(HttpMethod.Delete, "compute", $"compute/v1/instances/{id}", null, cancellationToken);
            else
                await Api.SendAsync(HttpMethod.Post, "compute", $"compute/v1/instances/{id}/actions/{Uri.EscapeDataString(operation)}",
                    type is null ? null : new { type }, cancellationToken);
            TempData["flash"] = $"{Capitalized(operation)} requested.";
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 409 or 403)
        {
            TempData["flash"] = refusal.Message;
        }
        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl! : $"/instances/{id}");
    }

    [HttpGet("/instances/{id:guid}/console-log")]
    public async Task<IActionResult> ConsoleLog(Guid id, int lines = 200, CancellationToken cancellationToken = default)
    {
        var instance = await Api.FindAsync<InstanceView>("compute", $"compute/v1/instances/{id}", cancellationToken);
        if (instance is null)
            return NotFoundPage();
        ConsoleLogView? log = null;
        string? unavailable = null;
        try
        {
            log = await Api.GetAsync<ConsoleLogView>("compute", $"compute/v1/instances/{id}/console-log?lines={Math.Clamp(lines, 1, 10000)}", cancellationToken);
        }
        catch (ApiException refusal) when (refusal.Status is 409 or 503)
        {
            unavailable = refusal.Message;
        }
        return View((instance, log, unavailable));
    }

    /// <summary>The noVNC page: it asks Compute for a single-use ticket and connects to Compute's websocket proxy with it.</summary>
    [HttpGet("/instances/{id:guid}/vnc")]
    public async Task<IActionResult> Vnc(Guid id, CancellationToken cancellationToken)
    {
        var instance = await Api.FindAsync<InstanceView>("compute", $"compute/v1/instances/{id}", cancellationToken);
        if (instance is null)
            return NotFoundPage();
        if (!Projects.CanChange)
            return View("Error", new ErrorModel("Not allowed", "Opening the console needs the member role in this project.", "read_only_role", HttpContext.TraceIdentifier));
        ConsoleView? console = null;
        string? unavailable = null;
        try
        {
            console = await Api.SendAsync<ConsoleView>(HttpMethod.Post, "compute", $"compute/v1/instances/{id}/console", new { type = "novnc" }, cancellationToken);
            var socket = new Uri(console.Url);
            SecurityHeaders.Apply(HttpContext, $"{socket.Scheme}://{socket.Authority}");
        }
        catch (ApiException refusal) when (refusal.Status is 409 or 503)
        {
            unavailable = refusal.Message;
        }
        return View((instance, console, unavailable));
    }

    private async Task<InstanceListModel> ListAsync(string? status, string? marker, bool allProjects, CancellationToken cancellationToken)
    {
        var query = $"compute/v1/instances?limit=100{(status is null ? "" : $"&status={Uri.EscapeDataString(status)}")}" +
            $"{(marker is null ? "" : $"&marker={Uri.EscapeDataString(marker)}")}{(allProjects ? "&allProjects=true" : "")}";
        var page = await Api.GetAsync<InstancePage>("compute", query, cancellationToken);
        return new InstanceListModel(page.Instances, status, page.Instances.Count > 0 && page.Next is not null ? page.Instances[^1].Id.ToString() : null,
            allProjects, Projects.CanChange);
    }

    private static string Capitalized(string operation) => char.ToUpperInvariant(operation[0]) + operation[1..];
}
