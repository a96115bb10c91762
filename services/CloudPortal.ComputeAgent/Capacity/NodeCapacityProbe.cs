using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Capacity;

public sealed record NodeCapacity(
    int VCpus, long MemoryMb, long DiskGb, string HypervisorType, string? HypervisorVersion, string? CpuModel,
    string Source, bool Simulated);

/// <summary>
/// Reads what this node offers: from libvirt when it answers, from the operating system when it does not
/// (the report then says <c>os</c>, so nobody mistakes it for a working hypervisor).
/// </summary>
public sealed partial class NodeCapacityProbe(IOptions<AgentOptions> options, IConfiguration configuration, ILogger<NodeCapacityProbe> log)
{
    public const string FromLibvirt = "libvirt";
    public const string FromOs = "os";
    private string? _lastFailure;

    public NodeCapacity Read()
    {
        var uri = options.Value.Libvirt;
        var diskGb = DiskGb(InstancesPath());
        try
        {
            using var connection = LibvirtConnection.Open(uri, readOnly: true);
            var info = connection.GetNodeInfo();
            var type = connection.HypervisorType;
            _lastFailure = null;
            return new NodeCapacity(
                (int)info.Cpus, (long)(info.MemoryKiB / 1024), diskGb, type, connection.HypervisorVersion.ToString(), info.CpuModel,
                FromLibvirt, Simulated: type.Equals("TEST", StringComparison.OrdinalIgnoreCase));
        }
        catch (LibvirtException ex)
        {
            if (_lastFailure != ex.Message)
                LogLibvirtUnreachable(log, uri, ex.Message);
            _lastFailure = ex.Message;
            return new NodeCapacity(Environment.ProcessorCount, MemoryMbFromOs(), diskGb, "unknown", null, CpuModelFromOs(), FromOs, Simulated: false);
        }
    }

    private string InstancesPath() =>
        string.IsNullOrWhiteSpace(options.Value.InstancesPath) ? Path.Combine(configuration.GetCloudPortalOptions().FullDataDir, "instances") : options.Value.InstancesPath;

    /// <summary>Size of the filesystem holding <paramref name="path"/> (the longest mount point that contains it).</summary>
    private static long DiskGb(string path)
    {
        var full = Path.GetFullPath(path);
        var drive = DriveInfo.GetDrives()
            .Where(d => d.IsReady && full.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .MaxBy(d => d.RootDirectory.FullName.Length);
        return drive is null ? 0 : drive.TotalSize / (1024L * 1024 * 1024);
    }

    private static long MemoryMbFromOs()
    {
        var total = ProcField("/proc/meminfo", "MemTotal");
        return total is not null && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], out var kib)
            ? kib / 1024
            : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024);
    }

    private static string? CpuModelFromOs() => ProcField("/proc/cpuinfo", "model name");

    private static string? ProcField(string file, string key)
    {
        if (!File.Exists(file))
            return null;
        foreach (var line in File.ReadLines(file))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == key)
                return line[(colon + 1)..].Trim();
        }
        return null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "libvirt at {Uri} is unreachable ({Reason}); reporting this node's capacity from the OS, and it cannot run instances until libvirt answers")]
    private static partial void LogLibvirtUnreachable(ILogger logger, string uri, string reason);
}
