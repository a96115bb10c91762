using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement;
using Xunit;
using static CloudPortal.Scheduler.Tests.Placement.TestHosts;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>Unschedulable selections: the per-filter table (what admins see) and the sentence (what tenants see).</summary>
public sealed class ExplanationTests
{
    private static Selection Select(IReadOnlyList<HostState> hosts, PlacementRequest request)
    {
        var selection = Selector().Select(hosts, request);
        Assert.False(selection.Found);
        return selection;
    }

    private static FilterElimination Row(Selection selection, string filter) => selection.Explanation.Filters.Single(f => f.Filter == filter);

    [Fact]
    public void Capacity_names_the_zone_the_amount_and_the_largest_free()
    {
        var hosts = new[]
        {
            Host("a1", zone: "az-1", memoryMb: 16384, usedMemoryMb: 8192),
            Host("a2", zone: "az-1", memoryMb: 16384, usedMemoryMb: 12288),
            Host("a3", zone: "az-1", memoryMb: 16384, usedMemoryMb: 16384),
            Host("b1", zone: "az-2", memoryMb: 65536),
        };

        var selection = Select(hosts, Request(memoryMb: 16384) with { AvailabilityZone = "az-1" });

        Assert.Equal("no host in az-1 has 16384 MB RAM free: largest free is 8192 MB", selection.Explanation.Reason);
        Assert.Equal(4, selection.Explanation.HostsConsidered);
        Assert.Equal(new FilterElimination("AvailabilityZoneFilter", 4, 1, ["zone: 1"]), Row(selection, "AvailabilityZoneFilter"), Comparer);
        Assert.Equal(new FilterElimination("CapacityFilter", 3, 3, ["ram: 3"]), Row(selection, "CapacityFilter"), Comparer);
        Assert.All(selection.Explanation.Filters.Where(f => f.Filter is not ("AvailabilityZoneFilter" or "CapacityFilter")), f => Assert.Equal(0, f.Removed));
        Assert.Equal(["a1", "a2", "a3", "b1"], selection.Explanation.Hosts.Select(h => h.Host).Order());
        Assert.Contains(new HostRejection("a1", "CapacityFilter", "16384 MB RAM requested, 8192 MB RAM free of 16384 MB RAM"), selection.Explanation.Hosts);
    }

    [Fact]
    public void An_unknown_zone_lists_the_zones_there_are()
    {
        var hosts = new[] { Host("a1", zone: "az-1"), Host("a2", zone: "az-1"), Host("b1", zone: "az-2") };

        var selection = Select(hosts, Request() with { AvailabilityZone = "az-3" });

        Assert.Equal("there is no host in availability zone az-3: choose one of az-1 or az-2", selection.Explanation.Reason);
        Assert.Equal(new FilterElimination("AvailabilityZoneFilter", 3, 3, ["zone: 3"]), Row(selection, "AvailabilityZoneFilter"), Comparer);
        Assert.All(selection.Explanation.Filters.Skip(1), f => Assert.Equal((0, 0), (f.HostsBefore, f.Removed)));
        Assert.Contains(new HostRejection("b1", "AvailabilityZoneFilter", "in zone az-2"), selection.Explanation.Hosts);
    }

    [Fact]
    public void Anti_affinity_says_every_host_runs_a_member()
    {
        var hosts = new[] { Host("a"), Host("b"), Host("c", enabled: false) };

        var selection = Select(hosts, Request().WithGroup(ServerGroupPolicies.AntiAffinity, "a", "b"));

        Assert.Equal("every available host already runs a member of this server group (anti-affinity, 2 hosts): use a soft-anti-affinity group or fewer members",
            selection.Explanation.Reason);
        Assert.Equal(new FilterElimination("EnabledAndUpFilter", 3, 1, ["disabled: 1"]), Row(selection, "EnabledAndUpFilter"), Comparer);
        Assert.Equal(new FilterElimination("ServerGroupAntiAffinityFilter", 2, 2, ["with_group: 2"]), Row(selection, "ServerGroupAntiAffinityFilter"), Comparer);
        Assert.Equal(new FilterElimination("CapacityFilter", 0, 0, []), Row(selection, "CapacityFilter"), Comparer);
    }

    [Fact]
    public void Disabled_and_down_hosts_are_counted_apart()
    {
        var hosts = new[] { Host("a", enabled: false, disabledReason: "maintenance"), Host("b", enabled: false), Host("c", up: false) };

        var selection = Select(hosts, Request());

        Assert.Equal("no host is accepting new instances (2 disabled, 1 down): try another availability zone or ask your administrator", selection.Explanation.Reason);
        Assert.Equal(new FilterElimination("EnabledAndUpFilter", 3, 3, ["disabled: 2", "down: 1"]), Row(selection, "EnabledAndUpFilter"), Comparer);
        Assert.Contains(new HostRejection("a", "EnabledAndUpFilter", "disabled: maintenance"), selection.Explanation.Hosts);
    }

    [Fact]
    public void The_table_lists_every_filter_in_order_even_when_a_host_was_found()
    {
        var selection = Selector().Select([Host("a"), Host("b", enabled: false)], Request());

        Assert.True(selection.Found);
        Assert.Null(selection.Explanation.Reason);
        Assert.Equal(Selector().Filters.Select(f => f.Name), selection.Explanation.Filters.Select(f => f.Filter));
    }

    [Fact]
    public void No_hosts_at_all_says_none_has_reported()
    {
        var selection = Select([], Request());

        Assert.Equal("no compute host has reported to the scheduler yet: ask your administrator", selection.Explanation.Reason);
        Assert.Equal(0, selection.Explanation.HostsConsidered);
    }

    [Fact]
    public void The_filter_that_removed_the_last_hosts_explains()
    {
        // Two disabled, the rest too small: the tenant hears about the capacity of the ones that are up.
        var hosts = new[] { Host("a", enabled: false, memoryMb: 65536), Host("b", enabled: false), Host("c", memoryMb: 4096), Host("d", memoryMb: 2048) };

        var selection = Select(hosts, Request(memoryMb: 8192));

        Assert.Equal("no host has 8192 MB RAM free: largest free is 4096 MB", selection.Explanation.Reason);
    }

    private static readonly IEqualityComparer<FilterElimination> Comparer = EqualityComparer<FilterElimination>.Create(
        (a, b) => a!.Filter == b!.Filter && a.HostsBefore == b.HostsBefore && a.Removed == b.Removed && a.Reasons.SequenceEqual(b.Reasons),
        f => f.Filter.GetHashCode(StringComparison.Ordinal));
}
