using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.Configuration;

namespace CloudPortal.ComputeAgent;

/// <summary>The <c>CloudPortal:Agent</c> section (and <c>cloudportal agent --host --libvirt</c>).</summary>
public sealed class AgentOptions
{
    public const string Section = "CloudPortal:Agent";

    /// <summary>This node's name in the cloud; must be unique. Defaults to the machine name.</summary>
    public string Host
    {
        get => string.IsNullOrWhiteSpace(_host) ? Environment.MachineName : _host;
        set => _host = value;
    }

    private string? _host;

    public string Libvirt { get; set; } = "qemu:///system";

    /// <summary>
    /// When <see cref="Libvirt"/> cannot be reached, run libvirt's simulated driver (<c>test:///default</c>, in this
    /// process) instead, and say "simulated" in every report. Meant for all-in-one on a machine without libvirt; a
    /// compute node should rather fail loudly. Decided once, at the first connection: the process stays simulated.
    /// </summary>
    public bool SimulatedFallback { get; set; }

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often every CloudPortal instance of the node is reported (<c>NodeInstancesReported</c>).</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a stop (or soft reboot) waits for the guest to obey the ACPI power button before pulling the plug.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Upper bound of one image download.</summary>
    public TimeSpan DownloadTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Commands handled at once (commands for one instance always run one after the other).</summary>
    public int ConcurrentCommands { get; set; } = 8;

    /// <summary>Directory of the image cache pool: one base image per image id and checksum. Default <c>{data-dir}/image-cache</c>.</summary>
    public string? ImagesPath { get; set; }

    /// <summary>libvirt storage pool over <see cref="ImagesPath"/>. Default <c>cloudportal-images-{host}</c>.</summary>
    public string? ImagesPool { get; set; }

    /// <summary>Directory of the instance disks (qcow2 overlays); its size is the node's disk. Default <c>{data-dir}/instances</c>.</summary>
    public string? InstancesPath { get; set; }

    /// <summary>libvirt storage pool over <see cref="InstancesPath"/>. Default <c>cloudportal-instances-{host}</c>.</summary>
    public string? InstancesPool { get; set; }

    /// <summary>Where the serial console logs go, one file per instance. Default <c>{data-dir}/consoles</c>.</summary>
    public string? ConsolePath { get; set; }

    /// <summary>The node's address on the management network: VNC servers listen there, for the console proxy.</summary>
    public string ManagementAddress { get; set; } = "127.0.0.1";
}

/// <summary>The options with every default resolved against the data directory and the host name.</summary>
public sealed record AgentSettings(
    string Host, string ImagesPool, string ImagesPath, string InstancesPool, string InstancesPath, string ConsolePath)
{
    /// <summary>The directories libvirt hands to QEMU, which may run as another user (see <see cref="DataDirectory.QemuDirectory"/>).</summary>
    public IReadOnlyList<string> QemuDirectories => [ImagesPath, InstancesPath, ConsolePath];

    public static AgentSettings From(AgentOptions options, IConfiguration configuration)
    {
        var dataDir = configuration.GetCloudPortalOptions().FullDataDir;
        string PathOr(string? value, string fallback) => Path.GetFullPath(string.IsNullOrWhiteSpace(value) ? Path.Combine(dataDir, fallback) : value);
        string PoolOr(string? value, string kind) => string.IsNullOrWhiteSpace(value) ? $"cloudportal-{kind}-{options.Host}" : value;
        return new AgentSettings(
            options.Host,
            PoolOr(options.ImagesPool, "images"), PathOr(options.ImagesPath, "image-cache"),
            PoolOr(options.InstancesPool, "instances"), PathOr(options.InstancesPath, "instances"),
            PathOr(options.ConsolePath, "consoles"));
    }
}
