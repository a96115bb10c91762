using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Hosts;
using Xunit;

namespace CloudPortal.Scheduler.Tests;

public sealed class ComputeNodeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    internal static ComputeNodeReported Report(string host, DateTimeOffset at, int vCpus = 8, string source = "libvirt") =>
        new(host, vCpus, 16384, 200, "QEMU", "7.2.0", "x86_64", source, Simulated: false, at);

    [Fact]
    public void A_newer_report_replaces_the_capacity()
    {
        var node = ComputeNode.Register(Report("node-1", T0));

        Assert.True(node.Apply(Report("node-1", T0.AddSeconds(30), vCpus: 16)));

        Assert.Equal(16, node.VCpus);
        Assert.Equal(T0.AddSeconds(30).UtcDateTime, node.LastHeartbeatAt);
        Assert.Equal(T0.UtcDateTime, node.FirstSeenAt);
    }

    [Fact]
    public void An_older_report_arriving_late_changes_nothing()
    {
        var node = ComputeNode.Register(Report("node-1", T0.AddSeconds(30), vCpus: 16));

        Assert.False(node.Apply(Report("node-1", T0, vCpus: 4)));

        Assert.Equal(16, node.VCpus);
        Assert.Equal(T0.AddSeconds(30).UtcDateTime, node.LastHeartbeatAt);
    }

    [Fact]
    public void A_node_is_down_once_its_reports_stop_for_longer_than_the_limit()
    {
        var node = ComputeNode.Register(Report("node-1", T0));
        var limit = TimeSpan.FromSeconds(90);

        Assert.True(node.IsUp(T0.AddSeconds(90).UtcDateTime, limit));
        Assert.False(node.IsUp(T0.AddSeconds(91).UtcDateTime, limit));
    }
}
