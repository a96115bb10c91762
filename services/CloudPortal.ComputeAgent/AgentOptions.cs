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

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where instance disks will live; its filesystem's size is the node's disk capacity.</summary>
    public string? InstancesPath { get; set; }
}
