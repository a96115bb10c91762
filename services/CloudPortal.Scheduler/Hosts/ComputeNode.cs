using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>
/// A compute node as a resource provider: what its agent last reported (totals, hypervisor, heartbeat), what an
/// admin set (reserved amounts, allocation ratios, zone, enabled), and what is allocated on it.
/// <see cref="Generation"/> changes with every change of capacity or usage; a claim commits only if the
/// generation it read is still current, so concurrent claims can never over-commit.
/// </summary>
public sealed class ComputeNode
{
    public const double DefaultCpuAllocationRatio = 4.0;
    public const double DefaultRamAllocationRatio = 1.0;
    public const double DefaultDiskAllocationRatio = 1.0;
    public const string DefaultAvailabilityZone = "nova";

    public required string Host { get; init; }

    // Reported by the agent.

    public int VCpus { get; private set; }

    public long MemoryMb { get; private set; }

    public long DiskGb { get; private set; }

    public required string HypervisorType { get; set; }

    public string? HypervisorVersion { get; private set; }

    public string? CpuModel { get; private set; }

    public required string CapacitySource { get; set; }

    public bool Simulated { get; private set; }

    public DateTime FirstSeenAt { get; init; }

    /// <summary>The agent's clock at its latest report (UTC).</summary>
    public DateTime LastHeartbeatAt { get; private set; }

    // Set by an admin; reports never change these.

    public int ReservedVCpus { get; private set; }

    public long ReservedMemoryMb { get; private set; }

    public long ReservedDiskGb { get; private set; }

    public double CpuAllocationRatio { get; private set; } = DefaultCpuAllocationRatio;

    public double RamAllocationRatio { get; private set; } = DefaultRamAllocationRatio;

    public double DiskAllocationRatio { get; private set; } = DefaultDiskAllocationRatio;

    public string AvailabilityZone { get; private set; } = DefaultAvailabilityZone;

    public bool Enabled { get; private set; } = true;

    public string? DisabledReason { get; private set; }

    // Maintained only by claims and releases (Allocations/ClaimService), in the transaction that writes the allocation rows.

    public int UsedVCpus { get; private set; }

    public long UsedMemoryMb { get; private set; }

    public long UsedDiskGb { get; private set; }

    /// <summary>How many consumers (instances) hold allocations here.</summary>
    public int InstanceCount { get; private set; }

    /// <summary>The provider generation (optimistic concurrency token).</summary>
    public long Generation { get; private set; }

    public ResourceInventory Inventory(ResourceClass resource) => resource switch
    {
        ResourceClass.VCpu => new(VCpus, ReservedVCpus, CpuAllocationRatio, UsedVCpus),
        ResourceClass.MemoryMb => new(MemoryMb, ReservedMemoryMb, RamAllocationRatio, UsedMemoryMb),
        ResourceClass.DiskGb => new(DiskGb, ReservedDiskGb, DiskAllocationRatio, UsedDiskGb),
        _ => throw new ArgumentOutOfRangeException(nameof(resource)),
    };

    public static ComputeNode Register(ComputeNodeReported report, string availabilityZone = DefaultAvailabilityZone)
    {
        ArgumentNullException.ThrowIfNull(report);
        var node = new ComputeNode
        {
            Host = report.Host,
            HypervisorType = report.HypervisorType,
            CapacitySource = report.CapacitySource,
            FirstSeenAt = report.ReportedAt.UtcDateTime,
            AvailabilityZone = availabilityZone,
        };
        node.Apply(report);
        return node;
    }

    /// <summary>
    /// Applies a report unless it is older than what we have (reports may be redelivered or reordered).
    /// Only reported fields change; a change of totals is a change of capacity and moves the generation.
    /// </summary>
    public bool Apply(ComputeNodeReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var at = report.ReportedAt.UtcDateTime;
        if (at < LastHeartbeatAt)
            return false;
        if (VCpus != report.VCpus || MemoryMb != report.MemoryMb || DiskGb != report.DiskGb)
            Generation++;
        VCpus = report.VCpus;
        MemoryMb = report.MemoryMb;
        DiskGb = report.DiskGb;
        HypervisorType = report.HypervisorType;
        HypervisorVersion = report.HypervisorVersion;
        CpuModel = report.CpuModel;
        CapacitySource = report.CapacitySource;
        Simulated = report.Simulated;
        LastHeartbeatAt = at;
        return true;
    }

    public bool IsUp(DateTime now, TimeSpan downAfter) => now - LastHeartbeatAt <= downAfter;

    public void Disable(string reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
            throw new ArgumentException("a host is disabled with a reason (--reason)");
        Enabled = false;
        DisabledReason = reason.Trim();
        Generation++;
    }

    public void Enable()
    {
        Enabled = true;
        DisabledReason = null;
        Generation++;
    }

    /// <summary>Sets the ratios given (null keeps the current one).</summary>
    public void SetAllocationRatios(double? cpu, double? ram, double? disk)
    {
        (CpuAllocationRatio, RamAllocationRatio, DiskAllocationRatio) =
            (ValidRatio(cpu ?? CpuAllocationRatio, "CPU"), ValidRatio(ram ?? RamAllocationRatio, "RAM"), ValidRatio(disk ?? DiskAllocationRatio, "disk"));
        Generation++;
    }

    /// <summary>Sets the amounts held back for the host itself (null keeps the current one).</summary>
    public void SetReserved(int? vCpus, long? memoryMb, long? diskGb)
    {
        (ReservedVCpus, ReservedMemoryMb, ReservedDiskGb) =
            (NotNegative(vCpus ?? ReservedVCpus, "vCPUs"), NotNegative(memoryMb ?? ReservedMemoryMb, "RAM"), NotNegative(diskGb ?? ReservedDiskGb, "disk"));
        Generation++;
    }

    public void MoveToZone(string availabilityZone)
    {
        if (string.IsNullOrWhiteSpace(availabilityZone))
            throw new ArgumentException("an availability zone needs a name");
        AvailabilityZone = availabilityZone.Trim();
        Generation++;
    }

    // Messages without the parameter name: they reach operators as one line (cloudportal admin host-set-ratio).
    private static double ValidRatio(double ratio, string resource) =>
        double.IsFinite(ratio) && ratio > 0 && ratio <= 1000
            ? ratio
            : throw new ArgumentException($"the {resource} allocation ratio must be above 0 and at most 1000, not {ratio.ToString(System.Globalization.CultureInfo.InvariantCulture)}");

    private static T NotNegative<T>(T value, string resource) where T : System.Numerics.INumber<T> =>
        T.IsNegative(value) ? throw new ArgumentException($"the reserved {resource} cannot be negative") : value;
}
