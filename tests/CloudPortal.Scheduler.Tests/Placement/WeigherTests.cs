using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement;
using CloudPortal.Scheduler.Placement.Weighers;
using Xunit;
using static CloudPortal.Scheduler.Tests.Placement.TestHosts;

namespace CloudPortal.Scheduler.Tests.Placement;

public sealed class WeigherTests
{
    private static readonly HostState Roomy = Host("roomy", vCpus: 16, memoryMb: 65536, usedVCpus: 8, usedMemoryMb: 8192, instances: 2);
    private static readonly HostState Busy = Host("busy", vCpus: 16, memoryMb: 65536, usedVCpus: 40, usedMemoryMb: 57344, instances: 9);

    /// <summary>Ranks hosts with only the given weigher.</summary>
    private static IReadOnlyList<string> Rank(IHostWeigher weigher, PlacementRequest request, params HostState[] hosts) =>
        new HostSelector([], [weigher], 1, hosts.Length, new Random(1)).Weigh(hosts, request).Select(w => w.Host.Host).ToList();

    [Fact]
    public void Free_ram_weigher_scores_free_ram_after_the_ratio()
    {
        Assert.Equal(57344, new FreeRamWeigher(1.0).Weigh(Roomy, Request()));
        Assert.Equal(8192, new FreeRamWeigher(1.0).Weigh(Busy, Request()));
    }

    [Fact]
    public void A_positive_ram_multiplier_spreads_and_a_negative_one_stacks()
    {
        Assert.Equal(["roomy", "busy"], Rank(new FreeRamWeigher(1.0), Request(), Busy, Roomy));
        Assert.Equal(["busy", "roomy"], Rank(new FreeRamWeigher(-1.0), Request(), Busy, Roomy));
    }

    [Fact]
    public void Free_vcpu_weigher_counts_overcommitted_vcpus()
    {
        // 16 cores × 4.0 = 64 vCPUs.
        Assert.Equal(56, new FreeVCpuWeigher(1.0).Weigh(Roomy, Request()));
        Assert.Equal(["roomy", "busy"], Rank(new FreeVCpuWeigher(1.0), Request(), Busy, Roomy));
        Assert.Equal(["busy", "roomy"], Rank(new FreeVCpuWeigher(-1.0), Request(), Busy, Roomy));
    }

    [Fact]
    public void Instance_count_weigher_with_a_negative_multiplier_prefers_emptier_hosts()
    {
        Assert.Equal(9, new InstanceCountWeigher(-1.0).Weigh(Busy, Request()));
        Assert.Equal(["roomy", "busy"], Rank(new InstanceCountWeigher(-1.0), Request(), Busy, Roomy));
        Assert.Equal(["busy", "roomy"], Rank(new InstanceCountWeigher(1.0), Request(), Busy, Roomy));
    }

    [Fact]
    public void Soft_affinity_prefers_the_host_with_most_members()
    {
        var request = Request().WithGroup(ServerGroupPolicies.SoftAffinity, "busy", "busy", "roomy");

        Assert.Equal(2, new ServerGroupSoftAffinityWeigher(1.0).Weigh(Busy, request));
        Assert.Equal(["busy", "roomy"], Rank(new ServerGroupSoftAffinityWeigher(1.0), request, Roomy, Busy));
        Assert.Equal(0, new ServerGroupSoftAffinityWeigher(1.0).Weigh(Busy, Request().WithGroup(ServerGroupPolicies.SoftAntiAffinity, "busy")));
    }

    [Fact]
    public void Soft_anti_affinity_prefers_the_host_with_fewest_members()
    {
        var request = Request().WithGroup(ServerGroupPolicies.SoftAntiAffinity, "roomy");

        Assert.Equal(-1, new ServerGroupSoftAntiAffinityWeigher(1.0).Weigh(Roomy, request));
        Assert.Equal(["busy", "roomy"], Rank(new ServerGroupSoftAntiAffinityWeigher(1.0), request, Roomy, Busy));
        Assert.Equal(0, new ServerGroupSoftAntiAffinityWeigher(1.0).Weigh(Roomy, Request().WithGroup(ServerGroupPolicies.SoftAffinity, "roomy")));
    }

    [Fact]
    public void With_default_multipliers_soft_anti_affinity_outweighs_free_ram()
    {
        var request = Request().WithGroup(ServerGroupPolicies.SoftAntiAffinity, "roomy");

        var ranked = Selector().Weigh([Roomy, Busy], request);

        Assert.Equal("busy", ranked[0].Host.Host);
    }

    [Fact]
    public void Scores_are_normalised_so_units_do_not_matter()
    {
        var weighed = new HostSelector([], [new FreeRamWeigher(2.0), new FreeVCpuWeigher(1.0)], 1, 3, new Random(1))
            .Weigh([Roomy, Busy, Host("half", vCpus: 16, memoryMb: 65536, usedVCpus: 24, usedMemoryMb: 32768)], Request());

        Assert.Equal([("roomy", 3.0), ("half", 1.5), ("busy", 0.0)], weighed.Select(w => (w.Host.Host, Math.Round(w.Weight, 4))));
    }
}
