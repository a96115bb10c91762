using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;

namespace CloudPortal.Bench.Scheduler;

/// <summary>A synthetic cloud, the same for a given size and seed: mixed hardware, three zones, some disabled hosts, aggregates.</summary>
internal static class Cloud
{
    public static readonly string[] Zones = ["az-1", "az-2", "az-3"];

    private static readonly PlacementResources[] Flavors = [new(1, 1024, 10), new(2, 4096, 40), new(4, 8192, 80), new(8, 16384, 160)];

    public static ComputeNodeReported Report(int i, Random random, DateTimeOffset at) =>
        new($"host-{i:00000}", random.Next(2, 9) * 8, random.Next(4, 17) * 32768L, random.Next(1, 5) * 1000L, "QEMU", "7.2.0", "x86_64", "libvirt", false, at);

    public static List<HostState> Snapshot(int hosts, int seed = 1)
    {
        var random = new Random(seed);
        var now = DateTime.UtcNow;
        return Enumerable.Range(0, hosts).Select(i =>
        {
            var report = Report(i, random, now);
            var cpu = new ResourceInventory(report.VCpus, 0, 4.0, random.Next(0, report.VCpus * 3));
            var ram = new ResourceInventory(report.MemoryMb, 0, 1.0, (long)(report.MemoryMb * random.NextDouble() * 0.7));
            var disk = new ResourceInventory(report.DiskGb, 0, 1.0, (long)(report.DiskGb * random.NextDouble() * 0.7));
            IReadOnlyList<AggregateState> aggregates = i % 10 == 0 ? [new AggregateState("ssd", new Dictionary<string, string> { ["ssd"] = "true" })] : [];
            return new HostState(report.Host, Zones[i % Zones.Length], Enabled: i % 20 != 7, DisabledReason: i % 20 == 7 ? "maintenance" : null, Up: true, now,
                cpu, ram, disk, random.Next(0, 30), "qemu", "x86_64", aggregates);
        }).ToList();
    }

    /// <summary>A mix of requests: any zone or one zone, some in anti-affinity groups, some asking for SSD hosts or an architecture.</summary>
    public static PlacementRequest Request(Random random, IReadOnlyList<string> hostNames)
    {
        var request = new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), Flavors[random.Next(Flavors.Length)]);
        if (random.Next(3) == 0)
            request = request with { AvailabilityZone = Zones[random.Next(Zones.Length)] };
        if (random.Next(5) == 0)
        {
            request = request with
            {
                // One of a few groups, as Compute sends them: with an id, so claims look up and lock the group.
                ServerGroupId = new Guid(random.Next(8), 0, 0, new byte[8]),
                ServerGroupPolicy = random.Next(2) == 0 ? ServerGroupPolicies.AntiAffinity : ServerGroupPolicies.SoftAntiAffinity,
                GroupMembersByHost = Enumerable.Range(0, 5).Select(_ => hostNames[random.Next(hostNames.Count)]).Distinct().ToDictionary(h => h, _ => 1),
            };
        }
        if (random.Next(10) == 0)
            request = request with { FlavorExtraSpecs = new Dictionary<string, string> { ["aggregate_instance_extra_specs:ssd"] = "true" } };
        if (random.Next(4) == 0)
            request = request with { ImageProperties = new Dictionary<string, string> { ["hw_architecture"] = "x86_64", ["img_hv_type"] = "kvm" } };
        return request;
    }
}
