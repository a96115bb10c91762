using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Hosts;

namespace CloudPortal.Scheduler.Placement;

/// <summary>An aggregate a host belongs to, as the filters see it.</summary>
public sealed record AggregateState(string Name, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// One host in a scheduling snapshot: immutable, so filters and weighers are pure functions of it and the request.
/// </summary>
public sealed record HostState(
    string Host,
    string AvailabilityZone,
    bool Enabled,
    string? DisabledReason,
    bool Up,
    DateTime LastHeartbeatAt,
    ResourceInventory VCpu,
    ResourceInventory MemoryMb,
    ResourceInventory DiskGb,
    int InstanceCount,
    string HypervisorType,
    string? Architecture,
    IReadOnlyList<AggregateState> Aggregates)
{
    /// <summary>The provider's generation when this state was read: a claim made from it commits only if it is still current.</summary>
    public long Generation { get; init; }

    public static HostState From(ComputeNode node, IReadOnlyList<AggregateState> aggregates, DateTime now, TimeSpan downAfter)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new HostState(node.Host, node.AvailabilityZone, node.Enabled, node.DisabledReason, node.IsUp(now, downAfter), node.LastHeartbeatAt,
            node.Inventory(ResourceClass.VCpu), node.Inventory(ResourceClass.MemoryMb), node.Inventory(ResourceClass.DiskGb),
            node.InstanceCount, HostCapabilities.HypervisorType(node.HypervisorType), HostCapabilities.Architecture(node.CpuModel), aggregates)
        {
            Generation = node.Generation,
        };
    }

    public ResourceInventory this[ResourceClass resource] => resource switch
    {
        ResourceClass.VCpu => VCpu,
        ResourceClass.MemoryMb => MemoryMb,
        _ => DiskGb,
    };

    /// <summary>The host as if <paramref name="held"/> were not allocated: a resize only needs the difference to fit.</summary>
    public HostState Without(PlacementResources held)
    {
        ArgumentNullException.ThrowIfNull(held);
        return this with
        {
            VCpu = VCpu with { Used = Math.Max(0, VCpu.Used - held.VCpus) },
            MemoryMb = MemoryMb with { Used = Math.Max(0, MemoryMb.Used - held.MemoryMb) },
            DiskGb = DiskGb with { Used = Math.Max(0, DiskGb.Used - held.DiskGb) },
            InstanceCount = Math.Max(0, InstanceCount - 1),
        };
    }
}

/// <summary>What a host can run, normalised from what libvirt reports.</summary>
public static class HostCapabilities
{
    /// <summary>libvirt's node model is the CPU architecture (<c>x86_64</c>); the OS fallback reports a model name, which tells us nothing.</summary>
    public static string? Architecture(string? cpuModel) => NormaliseArchitecture(cpuModel) is { } arch && KnownArchitectures.Contains(arch) ? arch : null;

    public static string NormaliseArchitecture(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "amd64" or "x64" or "x86-64" => "x86_64",
        "arm64" => "aarch64",
        "i386" or "i486" or "i586" or "x86" => "i686",
        { } other => other,
        null => "",
    };

    public static string HypervisorType(string? reported) => string.IsNullOrWhiteSpace(reported) ? "unknown" : reported.Trim().ToLowerInvariant();

    private static readonly HashSet<string> KnownArchitectures = ["x86_64", "i686", "aarch64", "armv7l", "ppc64le", "ppc64", "s390x", "riscv64", "mips64el"];
}
