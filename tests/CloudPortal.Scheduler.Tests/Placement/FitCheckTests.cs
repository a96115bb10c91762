using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement;
using Xunit;
using static CloudPortal.Scheduler.Tests.Placement.TestHosts;

namespace CloudPortal.Scheduler.Tests.Placement;

public sealed class FitCheckTests
{
    private static readonly HostState[] Hosts =
    [
        Host("a", zone: "az-1", vCpus: 4, memoryMb: 16384, diskGb: 100),                          // 16 vCPUs, 16 GB, 100 GB
        Host("b", zone: "az-1", vCpus: 8, memoryMb: 32768, diskGb: 40, usedMemoryMb: 16384),      // 32 vCPUs, 16 GB free, 40 GB
        Host("c", zone: "az-2", vCpus: 8, memoryMb: 65536, diskGb: 500),
        Host("d", zone: "az-1", vCpus: 64, memoryMb: 262144, diskGb: 2000, enabled: false),
        Host("e", zone: "az-1", vCpus: 64, memoryMb: 262144, diskGb: 2000, up: false),
    ];

    private static FlavorFit Fit(string? zone, int vCpus, long memoryMb, long diskGb, IReadOnlyDictionary<string, string>? specs = null) =>
        FitCheck.Count(Selector(), Hosts, Guid.NewGuid(), zone, new FlavorToFit("m1", new PlacementResources(vCpus, memoryMb, diskGb), specs));

    [Fact]
    public void Counts_what_fits_on_enabled_up_hosts_of_the_zone_by_the_scarcest_resource()
    {
        // a: min(16/2, 16384/4096, 100/20) = 4; b: min(16, 4, 2) = 2.
        Assert.Equal(new FlavorFit("m1", 6, null), Fit("az-1", 2, 4096, 20));
        // plus c: min(16, 16, 25) = 16.
        Assert.Equal(new FlavorFit("m1", 22, null), Fit(null, 2, 4096, 20));
    }

    [Fact]
    public void A_flavor_that_fits_nowhere_says_why()
    {
        Assert.Equal(new FlavorFit("m1", 0, "no host in az-1 has 32768 MB RAM free: largest free is 16384 MB"), Fit("az-1", 2, 32768, 20));
        Assert.Equal(0, Fit("az-9", 1, 512, 1).Count);
    }

    [Fact]
    public void Resources_a_flavor_does_not_use_do_not_limit_it() =>
        Assert.Equal(16 + 32, Fit("az-1", 1, 0, 0).Count);

    [Fact]
    public void Aggregate_requirements_of_the_flavor_apply() =>
        Assert.Equal(0, Fit("az-1", 1, 512, 1, new Dictionary<string, string> { ["aggregate_instance_extra_specs:ssd"] = "true" }).Count);
}
