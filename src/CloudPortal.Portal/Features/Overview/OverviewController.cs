using CloudPortal.Compute.Instances;
using CloudPortal.Identity.Quotas;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.Overview;

/// <param name="InstanceNames">Names of the instances the recent actions are about; a deleted one is missing.</param>
public sealed record OverviewModel(
    ProjectQuota? Quota, IReadOnlyDictionary<string, int> InstancesByStatus, IReadOnlyList<InstanceActionView> RecentActions,
    IReadOnlyDictionary<Guid, string> InstanceNames, bool More);

/// <summary>The start page: the project's quota as charts (Identity's view: limit, in use, reserved), its instances by status, its latest actions.</summary>
public sealed class OverviewController : PortalController
{
    /// <summary>The overview counts one page of instances; beyond it the page says there are more.</summary>
    private const int Counted = 1000;

    private const int RecentActions = 10;

    [HttpGet("/")]
    public async Task<IActionResult> Index(CancellationToken cancellationToken)
    {
        if (Projects.CurrentId is not { } projectId)
            return View(new OverviewModel(null, new Dictionary<string, int>(), [], new Dictionary<Guid, string>(), false));
        var quota = Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{projectId}/quota", cancellationToken);
        var instances = Api.GetAsync<InstancePage>("compute", $"compute/v1/instances?limit={Counted}", cancellationToken);
        var actions = Api.GetAsync<InstanceActionPage>("compute", $"compute/v1/instance-actions?limit={RecentActions}", cancellationToken);
        await Task.WhenAll(quota, instances, actions);
        var all = instances.Result.Instances;
        var byStatus = all.GroupBy(i => i.Status).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        return View(new OverviewModel(quota.Result, byStatus, actions.Result.Actions, all.ToDictionary(i => i.Id, i => i.Name), instances.Result.Next is not null));
    }
}
