using System.Text.RegularExpressions;
using CloudPortal.ServiceDefaults.Messaging;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Messaging;

/// <summary>The names and rules behind a node's RabbitMQ user (ADR 0015); the broker itself is exercised in Compute's NodeCredentialsTests.</summary>
public sealed class NodeIdentityTests
{
    [Theory]
    [InlineData("/", "node-1", "compute-agent.node-1")]
    [InlineData("", "node-1", "compute-agent.node-1")]
    [InlineData("cloud-a", "node-1", "cloud-a.compute-agent.node-1")]
    public void A_nodes_user_is_named_after_the_node_and_outside_the_default_virtual_host_after_it_too(string virtualHost, string host, string user) =>
        Assert.Equal(user, NodeIdentity.UserName(virtualHost, host));

    [Theory]
    [InlineData("cloud-a.compute-agent.node-1", "node-1", true)]     // the node itself
    [InlineData("cloudportal", "node-1", true)]                      // the control plane
    [InlineData("cloud-a.compute-agent.node-2", "node-1", false)]    // another node
    [InlineData("cloud-a.compute-agent.node-10", "node-1", false)]   // a name that only starts the same
    [InlineData(null, "node-1", false)]                               // no user_id: who knows
    [InlineData("", "node-1", false)]
    public void A_report_is_believed_only_from_its_node_or_the_control_plane(string? user, string host, bool believed) =>
        Assert.Equal(believed, new NodeReportSenders("cloud-a").MaySpeakFor(user, host));

    [Theory]
    [InlineData("compute-agent.node.1", true, true, true)]
    [InlineData("compute-agent.node.1_error", true, true, true)]
    [InlineData("compute-agent.node.1.bus-0123456789abcdef0123456789abcdef", true, true, true)]
    [InlineData("CloudPortal.Contracts.Compute:InstanceSpawned", true, true, false)]
    [InlineData("CloudPortal.Contracts.Scheduler:ComputeNodeReported", true, true, false)]
    [InlineData("MassTransit:Fault--CloudPortal.Contracts.Compute:SpawnInstance--", true, true, false)]
    [InlineData("debian_cloudportal_bus_bnkyyyyhz3qj8p5ubdpsjx7xbs", true, true, false)]
    [InlineData("compute-agent.node-2", false, false, false)]
    [InlineData("compute-agent.nodex1", false, false, false)]          // the dot in the host name is literal
    [InlineData("compute-agent.node.1x", false, false, false)]
    [InlineData("CloudPortal.Contracts.Identity:QuotaUsageReported", false, false, false)]
    [InlineData("CloudPortal.Contracts.Compute:SpawnInstance", false, false, false)]
    [InlineData("instance-commands", false, false, false)]
    [InlineData("compute-node-reported", false, false, false)]
    public void A_node_may_touch_its_own_queue_and_its_reports_exchanges_only(string name, bool configure, bool write, bool read)
    {
        var permissions = NodeIdentity.Permissions("node.1");
        Assert.Equal(configure, Regex.IsMatch(name, permissions.Configure));
        Assert.Equal(write, Regex.IsMatch(name, permissions.Write));
        Assert.Equal(read, Regex.IsMatch(name, permissions.Read));
    }
}
