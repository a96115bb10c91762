using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>A compute node as its agent last described it.</summary>
public sealed class ComputeNode
{
    public required string Host { get; init; }

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

    public static ComputeNode Register(ComputeNodeReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var node = new ComputeNode
        {
            Host = report.Host,
            HypervisorType = report.HypervisorType,
            CapacitySource = report.CapacitySource,
            FirstSeenAt = report.ReportedAt.UtcDateTime,
        };
        node.Apply(report);
        return node;
    }

    /// <summary>Applies a report unless it is older than what we have (reports may be redelivered or reordered).</summary>
    public bool Apply(ComputeNodeReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var at = report.ReportedAt.UtcDateTime;
        if (at < LastHeartbeatAt)
            return false;
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
}
