using System.Xml.Linq;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Capacity;

public sealed record NodeCapacity(
    int VCpus, long MemoryMb, long DiskGb, string HypervisorType, string? HypervisorVersion, string? CpuModel,
    string Source, bool Simulated);

/// <summary>
/// Reads what this node offers: from libvirt when it answers (vCPUs, RAM, CPU model, hypervisor; disk from the
/// instances pool once it exists, else from the filesystem that will hold it), from the operating system when it does
/// not (the report then says <c>os</c>, so nobody mistakes it for a working hypervisor).
/// </summary>
public sealed partial class NodeCapacityProbe(
    HypervisorSession session, StoragePools pools, AgentSettings settings, IOptions<AgentOptions> options, ILogger<NodeCapacityProbe> log)
{
    public const string FromLibvirt = "libvirt";
    public const string FromOs = "os";
    private string? _lastFailure;
    private (int Generation, string? Model) _cpuModel = (-1, null);

    public NodeCapacity Read()
    {
        string failure;
        if (session.TryConnect(out var connection, out var hypervisor, out var unreachable))
        {
            try
            {
                var info = connection.GetNodeInfo();
                long? poolGb;
                using (var pool = pools.FindInstances(connection))
                    poolGb = pool is null ? null : (long)(pool.GetInfo().CapacityBytes / InstanceDisks.GiB);
                _lastFailure = null;
                return new NodeCapacity(
                    (int)info.Cpus, (long)(info.MemoryKiB / 1024), poolGb ?? DiskGb(settings.InstancesPath), hypervisor.Type, hypervisor.Version,
                    CpuModel(connection) ?? info.CpuModel, FromLibvirt, hypervisor.Simulated);
            }
            catch (Exception ex) when (ex is LibvirtException or ObjectDisposedException)
            {
                failure = ex.Message;
            }
        }
        else
        {
            failure = unreachable ?? "unknown error";
        }
        if (_lastFailure != failure)
            LogLibvirtUnreachable(log, session.Current?.Uri ?? options.Value.Libvirt, failure);
        _lastFailure = failure;
        return new NodeCapacity(Environment.ProcessorCount, MemoryMbFromOs(), DiskGb(settings.InstancesPath), "unknown", null, CpuModelFromOs(), FromOs, Simulated: false);
    }

    /// <summary>The host CPU as libvirt names it (vendor and model from the capabilities), read once per connection.</summary>
    private string? CpuModel(LibvirtConnection connection)
    {
        var generation = session.Generation;
        if (_cpuModel.Generation == generation)
            return _cpuModel.Model;
        var cpu = XDocument.Parse(connection.GetCapabilities()).Root?.Element("host")?.Element("cpu");
        var model = (string?)cpu?.Element("model");
        var vendor = (string?)cpu?.Element("vendor");
        var name = model is null ? null : vendor is null ? model : $"{vendor} {model}";
        _cpuModel = (generation, name);
        return name;
    }

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
