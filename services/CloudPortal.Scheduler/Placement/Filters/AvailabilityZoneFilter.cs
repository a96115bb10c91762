namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>Only hosts in the requested availability zone (any zone when none is requested).</summary>
public sealed class AvailabilityZoneFilter : IHostFilter
{
    public string Name => "AvailabilityZoneFilter";

    public FilterResult Passes(HostState host, PlacementRequest request) =>
        request.AvailabilityZone is null || string.Equals(host.AvailabilityZone, request.AvailabilityZone, StringComparison.Ordinal)
            ? FilterResult.Pass
            : FilterResult.Fail("zone", $"in zone {host.AvailabilityZone}");

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected)
    {
        var zones = rejected.Select(r => r.Host.AvailabilityZone).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return $"there is no host in availability zone {request.AvailabilityZone}: choose one of {Sentences.List(zones, "or")}";
    }
}
