using System.Globalization;

namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>Only hosts an admin has not disabled and whose agent still reports (Nova's ComputeFilter).</summary>
public sealed class EnabledAndUpFilter : IHostFilter
{
    public string Name => "EnabledAndUpFilter";

    public FilterResult Passes(HostState host, PlacementRequest request)
    {
        if (!host.Enabled)
            return FilterResult.Fail("disabled", $"disabled: {host.DisabledReason}");
        if (!host.Up)
            return FilterResult.Fail("down", $"down: last report {host.LastHeartbeatAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)}");
        return FilterResult.Pass;
    }

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected)
    {
        var disabled = rejected.Count(r => r.Result.Code == "disabled");
        var down = rejected.Count - disabled;
        var parts = new List<string>();
        if (disabled > 0)
            parts.Add($"{disabled} disabled");
        if (down > 0)
            parts.Add($"{down} down");
        return $"no host{request.Where} is accepting new instances ({string.Join(", ", parts)}): try another availability zone or ask your administrator";
    }
}
