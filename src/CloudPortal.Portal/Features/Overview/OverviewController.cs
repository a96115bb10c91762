using CloudPortal.Compute.Instances;
using CloudPortal.Identity.Quotas;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.Overview;

public sealed record OverviewModel(ProjectQuota? Quota, IReadOnlyDictionary<string, int> InstancesByStatus, IReadOnlyList<InstanceView> Recent, bool More);

/// <summary>The start page: the project's quota as charts (Identity's view: limit, in use, reserved), its instances by status, what changed lately.</summary>
public sealed class OverviewController : PortalController
{
    /// <summary>The overview counts one page of instances; beyond it the page says there are more.</summary>
    private const int Counted = 1000;

    [HttpGet("/")]
    public async Task<IActionResult> Index(CancellationToken cancellationToken)
    {
        if (Projects.CurrentId is not { } projectId)
            return View(new OverviewModel(null, new Dictionary<string, int>(), [], false));
        var quota = Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{projectId}/quota", cancellationToken);
        var instances = Api.GetAsync<InstancePage>("compute", $"compute/v1/instances?limit={Counted}", cancellationToken);
        await Task.WhenAll(quota, instances);
        var all = instances.Result.Instances;
        var byStatus = all.GroupBy(i => i.Status).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        var recent = all.OrderByDescending(i => i.UpdatedAt).Take(8).ToList();
        return View(new OverviewModel(quota.Result, byStatus, recent, instances.Result.Next is not null));
    }
}
