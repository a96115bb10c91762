using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>Host states and requests for the pure placement tests.</summary>
internal static class TestHosts
{
    public static readonly DateTime Now = new(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);

    public static HostState Host(
        string name, int vCpus = 16, long memoryMb = 32768, long diskGb = 500,
        int usedVCpus = 0, long usedMemoryMb = 0, long usedDiskGb = 0, int instances = 0,
        double cpuRatio = 4.0, double ramRatio = 1.0, double diskRatio = 1.0,
        int reservedVCpus = 0, long reservedMemoryMb = 0, long reservedDiskGb = 0,
        string zone = "nova", bool enabled = true, string? disabledReason = null, bool up = true,
        string hypervisor = "qemu", string? architecture = "x86_64", params AggregateState[] aggregates) =>
        new(name, zone, enabled, enabled ? null : disabledReason ?? "maintenance", up, up ? Now : Now.AddMinutes(-10),
            new ResourceInventory(vCpus, reservedVCpus, cpuRatio, usedVCpus),
            new ResourceInventory(memoryMb, reservedMemoryMb, ramRatio, usedMemoryMb),
            new ResourceInventory(diskGb, reservedDiskGb, diskRatio, usedDiskGb),
            instances, hypervisor, architecture, aggregates);

    public static PlacementRequest Request(int vCpus = 2, long memoryMb = 4096, long diskGb = 20) =>
        new(Guid.NewGuid(), Guid.NewGuid(), new PlacementResources(vCpus, memoryMb, diskGb));

    public static AggregateState Aggregate(string name, params (string Key, string Value)[] metadata) =>
        new(name, metadata.ToDictionary(m => m.Key, m => m.Value));

    public static PlacementRequest WithGroup(this PlacementRequest request, string policy, params string[] memberHosts) => request with
    {
        ServerGroupPolicy = policy,
        GroupMembersByHost = memberHosts.GroupBy(h => h).ToDictionary(g => g.Key, g => g.Count()),
    };

    public static HostSelector Selector(int hostSubsetSize = 1, int seed = 42, SchedulerOptions? options = null)
    {
        options ??= new SchedulerOptions();
        options.HostSubsetSize = hostSubsetSize;
        return HostSelector.Create(options, new Random(seed));
    }
}
