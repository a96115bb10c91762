using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement;
using CloudPortal.Scheduler.Placement.Filters;
using Xunit;
using static CloudPortal.Scheduler.Tests.Placement.TestHosts;

namespace CloudPortal.Scheduler.Tests.Placement;

public sealed class AvailabilityZoneFilterTests
{
    private readonly AvailabilityZoneFilter _filter = new();

    [Fact]
    public void Any_zone_passes_when_the_request_names_none() =>
        Assert.True(_filter.Passes(Host("a", zone: "az-2"), Request()).Passed);

    [Fact]
    public void Only_hosts_in_the_requested_zone_pass()
    {
        var request = Request() with { AvailabilityZone = "az-1" };

        Assert.True(_filter.Passes(Host("a", zone: "az-1"), request).Passed);
        var rejected = _filter.Passes(Host("b", zone: "az-2"), request);
        Assert.False(rejected.Passed);
        Assert.Equal("zone", rejected.Code);
        Assert.Equal("in zone az-2", rejected.Reason);
    }

    [Fact]
    public void Explains_which_zones_exist()
    {
        var request = Request() with { AvailabilityZone = "az-9" };
        var rejected = new[] { Host("a", zone: "az-2"), Host("b", zone: "az-1"), Host("c", zone: "az-1") }
            .Select(h => new Rejection(h, _filter.Passes(h, request))).ToList();

        Assert.Equal("there is no host in availability zone az-9: choose one of az-1 or az-2", _filter.Explain(request, rejected));
    }
}

public sealed class EnabledAndUpFilterTests
{
    private readonly EnabledAndUpFilter _filter = new();

    [Fact]
    public void An_enabled_host_that_reports_passes() => Assert.True(_filter.Passes(Host("a"), Request()).Passed);

    [Fact]
    public void A_disabled_host_is_rejected_with_the_admins_reason()
    {
        var result = _filter.Passes(Host("a", enabled: false, disabledReason: "RAM replacement"), Request());

        Assert.False(result.Passed);
        Assert.Equal("disabled", result.Code);
        Assert.Equal("disabled: RAM replacement", result.Reason);
    }

    [Fact]
    public void A_host_that_stopped_reporting_is_rejected_as_down()
    {
        var result = _filter.Passes(Host("a", up: false), Request());

        Assert.False(result.Passed);
        Assert.Equal("down", result.Code);
        Assert.StartsWith("down: last report 2026-11-26 11:50:00Z", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Explains_how_many_are_disabled_and_down()
    {
        var request = Request() with { AvailabilityZone = "az-1" };
        var rejected = new[] { Host("a", enabled: false), Host("b", enabled: false), Host("c", up: false) }
            .Select(h => new Rejection(h, _filter.Passes(h, request))).ToList();

        Assert.Equal("no host in az-1 is accepting new instances (2 disabled, 1 down): try another availability zone or ask your administrator",
            _filter.Explain(request, rejected));
    }
}

public sealed class AvoidHostsFilterTests
{
    private readonly AvoidHostsFilter _filter = new();

    [Fact]
    public void Hosts_the_request_avoids_are_rejected_and_others_pass()
    {
        var request = Request() with { AvoidHosts = new HashSet<string> { "a" } };

        Assert.Equal("avoided", _filter.Passes(Host("a"), request).Code);
        Assert.True(_filter.Passes(Host("b"), request).Passed);
        Assert.Equal("no other host can take this instance: it was already tried on 1 host",
            _filter.Explain(request, [new Rejection(Host("a"), _filter.Passes(Host("a"), request))]));
    }
}

public sealed class ImagePropertiesFilterTests
{
    private readonly ImagePropertiesFilter _filter = new();

    private static PlacementRequest Image(params (string Key, string Value)[] properties) =>
        Request() with { ImageProperties = properties.ToDictionary(p => p.Key, p => p.Value) };

    [Fact]
    public void An_image_without_properties_runs_anywhere() =>
        Assert.True(_filter.Passes(Host("a", architecture: null, hypervisor: "unknown"), Request()).Passed);

    [Theory]
    [InlineData("x86_64", true)]
    [InlineData("amd64", true)]
    [InlineData("aarch64", false)]
    public void Architecture_must_match_the_host(string wanted, bool passes) =>
        Assert.Equal(passes, _filter.Passes(Host("a", architecture: "x86_64"), Image(("hw_architecture", wanted))).Passed);

    [Fact]
    public void The_legacy_architecture_key_is_read_too()
    {
        var result = _filter.Passes(Host("a", architecture: "x86_64"), Image(("architecture", "aarch64")));

        Assert.Equal("architecture", result.Code);
        Assert.Equal("architecture x86_64, image needs aarch64", result.Reason);
    }

    [Fact]
    public void A_host_of_unknown_architecture_cannot_take_an_image_that_names_one() =>
        Assert.False(_filter.Passes(Host("a", architecture: null), Image(("hw_architecture", "x86_64"))).Passed);

    [Theory]
    [InlineData("qemu", "kvm", true)]
    [InlineData("qemu", "QEMU", true)]
    [InlineData("test", "test", true)]
    [InlineData("qemu", "xen", false)]
    [InlineData("unknown", "kvm", false)]
    public void Hypervisor_type_must_be_one_the_host_runs(string host, string wanted, bool passes) =>
        Assert.Equal(passes, _filter.Passes(Host("a", hypervisor: host), Image(("img_hv_type", wanted))).Passed);

    [Theory]
    [InlineData("hvm", true)]
    [InlineData("xen", false)]
    public void Only_hvm_guests_run_on_qemu(string mode, bool passes) =>
        Assert.Equal(passes, _filter.Passes(Host("a"), Image(("hw_vm_mode", mode))).Passed);

    [Fact]
    public void Explains_what_the_image_needs_and_what_the_hosts_offer()
    {
        var request = Image(("hw_architecture", "aarch64"));
        var rejected = new[] { Host("a"), Host("b", architecture: "ppc64le") }.Select(h => new Rejection(h, _filter.Passes(h, request))).ToList();

        Assert.Equal("no host can run this image: it needs architecture aarch64 (hosts offer ppc64le and x86_64); use an image built for these hosts",
            _filter.Explain(request, rejected));
    }
}

public sealed class AggregateMetadataFilterTests
{
    private readonly AggregateMetadataFilter _filter = new();

    private static PlacementRequest Flavor(params (string Key, string Value)[] specs) =>
        Request() with { FlavorExtraSpecs = specs.ToDictionary(p => p.Key, p => p.Value) };

    [Fact]
    public void A_flavor_without_aggregate_specs_passes_everywhere() =>
        Assert.True(_filter.Passes(Host("a"), Flavor(("hw:cpu_policy", "dedicated"))).Passed);

    [Fact]
    public void A_host_passes_when_one_of_its_aggregates_has_the_value()
    {
        var request = Flavor(("aggregate_instance_extra_specs:ssd", "true"));

        Assert.True(_filter.Passes(Host("a", aggregates: [Aggregate("slow"), Aggregate("fast", ("ssd", "true"))]), request).Passed);
        Assert.False(_filter.Passes(Host("b", aggregates: Aggregate("slow", ("ssd", "false"))), request).Passed);
        var none = _filter.Passes(Host("c"), request);
        Assert.Equal("aggregate", none.Code);
        Assert.Equal("in no aggregate with ssd=true", none.Reason);
    }

    [Fact]
    public void An_aggregate_value_may_list_several()
    {
        var request = Flavor(("aggregate_instance_extra_specs:gpu", "a100"));

        Assert.True(_filter.Passes(Host("a", aggregates: Aggregate("gpus", ("gpu", "v100, a100"))), request).Passed);
    }

    [Fact]
    public void Every_requirement_must_hold()
    {
        var request = Flavor(("aggregate_instance_extra_specs:ssd", "true"), ("aggregate_instance_extra_specs:gpu", "a100"));

        Assert.False(_filter.Passes(Host("a", aggregates: Aggregate("fast", ("ssd", "true"))), request).Passed);
        Assert.True(_filter.Passes(Host("b", aggregates: [Aggregate("fast", ("ssd", "true")), Aggregate("gpus", ("gpu", "a100"))]), request).Passed);
        Assert.Equal("no host in az-1 has what this flavor requires (gpu=a100, ssd=true): choose another flavor or zone",
            _filter.Explain(request with { AvailabilityZone = "az-1" }, []));
    }
}

public sealed class ServerGroupAffinityFilterTests
{
    private readonly ServerGroupAffinityFilter _filter = new();

    [Fact]
    public void The_first_member_may_go_anywhere() =>
        Assert.True(_filter.Passes(Host("a"), Request().WithGroup(ServerGroupPolicies.Affinity)).Passed);

    [Fact]
    public void Later_members_go_only_where_the_members_run()
    {
        var request = Request().WithGroup(ServerGroupPolicies.Affinity, "b");

        Assert.True(_filter.Passes(Host("b"), request).Passed);
        Assert.Equal("not_with_group", _filter.Passes(Host("a"), request).Code);
    }

    [Fact]
    public void Other_policies_are_not_its_business() =>
        Assert.True(_filter.Passes(Host("a"), Request().WithGroup(ServerGroupPolicies.SoftAffinity, "b")).Passed);
}

public sealed class ServerGroupAntiAffinityFilterTests
{
    private readonly ServerGroupAntiAffinityFilter _filter = new();

    [Fact]
    public void A_host_that_runs_a_member_is_rejected()
    {
        var request = Request().WithGroup(ServerGroupPolicies.AntiAffinity, "a", "a", "b");

        var result = _filter.Passes(Host("a"), request);
        Assert.Equal("with_group", result.Code);
        Assert.Equal("runs 2 members of the server group (anti-affinity)", result.Reason);
        Assert.False(_filter.Passes(Host("b"), request).Passed);
        Assert.True(_filter.Passes(Host("c"), request).Passed);
    }

    [Fact]
    public void Soft_anti_affinity_never_rejects() =>
        Assert.True(_filter.Passes(Host("a"), Request().WithGroup(ServerGroupPolicies.SoftAntiAffinity, "a")).Passed);
}

public sealed class CapacityFilterTests
{
    private readonly CapacityFilter _filter = new();

    [Fact]
    public void A_request_that_fits_exactly_passes() =>
        Assert.True(_filter.Passes(Host("a", vCpus: 4, memoryMb: 8192, diskGb: 40, usedMemoryMb: 4096, cpuRatio: 1.0), Request(4, 4096, 40)).Passed);

    [Fact]
    public void Cpu_is_overcommitted_by_its_ratio()
    {
        // 4 physical cores × 4.0 = 16 vCPUs, 14 used.
        var host = Host("a", vCpus: 4, usedVCpus: 14);

        Assert.True(_filter.Passes(host, Request(vCpus: 2)).Passed);
        var result = _filter.Passes(host, Request(vCpus: 3));
        Assert.Equal("vcpu", result.Code);
        Assert.Equal("3 vCPUs requested, 2 vCPUs free of 16 vCPUs", result.Reason);
    }

    [Fact]
    public void Reserved_amounts_are_not_for_instances()
    {
        var host = Host("a", memoryMb: 16384, reservedMemoryMb: 2048, usedMemoryMb: 10240);

        Assert.True(_filter.Passes(host, Request(memoryMb: 4096)).Passed);
        Assert.Equal("ram", _filter.Passes(host, Request(memoryMb: 4097)).Code);
    }

    [Fact]
    public void Every_short_resource_is_named()
    {
        var result = _filter.Passes(Host("a", vCpus: 1, memoryMb: 1024, diskGb: 10, cpuRatio: 1.0), Request(2, 2048, 5));

        Assert.Equal("vcpu,ram", result.Code);
    }

    [Fact]
    public void Explains_the_largest_free_amount_of_the_short_resource()
    {
        var request = Request(memoryMb: 16384) with { AvailabilityZone = "az-1" };
        var rejected = new[] { Host("a", memoryMb: 16384, usedMemoryMb: 8192), Host("b", memoryMb: 16384, usedMemoryMb: 12288) }
            .Select(h => new Rejection(h, _filter.Passes(h, request))).ToList();

        Assert.Equal("no host in az-1 has 16384 MB RAM free: largest free is 8192 MB", _filter.Explain(request, rejected));
    }

    [Fact]
    public void When_hosts_fall_short_on_different_resources_explains_with_the_closest_host()
    {
        var request = Request(vCpus: 8, memoryMb: 16384, diskGb: 80);
        var rejected = new[]
        {
            Host("a", vCpus: 1, memoryMb: 8192, diskGb: 500),                       // short of vCPUs and RAM
            Host("b", vCpus: 64, memoryMb: 262144, diskGb: 1000, usedDiskGb: 990),   // short of disk only: 10 of 80
            Host("c", vCpus: 64, memoryMb: 262144, diskGb: 1000, usedDiskGb: 960),   // short of disk only: 40 of 80, the closest
        }.Select(h => new Rejection(h, _filter.Passes(h, request))).ToList();

        Assert.Equal("no host has 8 vCPUs, 16384 MB RAM and 80 GB disk free at once: the closest has 256 vCPUs, 262144 MB RAM and 40 GB disk free",
            _filter.Explain(request, rejected));
    }
}
