using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement.Filters;

namespace CloudPortal.Scheduler.Placement;

/// <summary>
/// For the launch wizard: how many instances of a flavor the free capacity holds right now. Pure, over a snapshot.
/// Hosts count when they are in the zone, enabled, up and match the flavor's aggregate requirements; each host
/// holds as many as its scarcest resource allows.
/// </summary>
public static class FitCheck
{
    public static FlavorFit Count(HostSelector selector, IReadOnlyList<HostState> hosts, Guid projectId, string? availabilityZone, FlavorToFit flavor)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(flavor);
        PlacementRequest.Validate(flavor.Resources);
        var request = new PlacementRequest(Guid.Empty, projectId, flavor.Resources)
        {
            AvailabilityZone = string.IsNullOrWhiteSpace(availabilityZone) ? null : availabilityZone.Trim(),
            FlavorExtraSpecs = flavor.ExtraSpecs ?? new Dictionary<string, string>(),
        };
        var pass = selector.Filter(hosts, request, Filters);
        long total = 0;
        foreach (var host in pass.Passed)
            total += PerHost(host, flavor.Resources);
        var count = (int)Math.Min(int.MaxValue, total);
        return new FlavorFit(flavor.Flavor, count, count == 0 ? pass.Explanation.Reason : null);
    }

    private static readonly IReadOnlyList<IHostFilter> Filters =
        [new AvailabilityZoneFilter(), new EnabledAndUpFilter(), new AggregateMetadataFilter(), new CapacityFilter()];

    /// <summary>How many instances of this size fit in the host's free capacity (a resource the flavor does not use never limits).</summary>
    public static long PerHost(HostState host, PlacementResources size)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(size);
        var fit = long.MaxValue;
        if (size.VCpus > 0)
            fit = Math.Min(fit, host.VCpu.Free / size.VCpus);
        if (size.MemoryMb > 0)
            fit = Math.Min(fit, host.MemoryMb.Free / size.MemoryMb);
        if (size.DiskGb > 0)
            fit = Math.Min(fit, host.DiskGb.Free / size.DiskGb);
        return fit == long.MaxValue ? int.MaxValue : fit;
    }
}
