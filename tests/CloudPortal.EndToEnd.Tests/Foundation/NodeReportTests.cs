using System.Globalization;
using System.Text.RegularExpressions;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>The one flow through the whole stack: agent → bus → Scheduler → its database → admin hosts.</summary>
public sealed partial class NodeReportTests
{
    [Fact]
    public async Task Agent_and_scheduler_in_separate_processes_on_RabbitMQ_and_PostgreSQL_register_the_node()
    {
        await using var deployment = await Deployment.DistributedAsync();
        var node = $"node-{Guid.NewGuid():N}"[..13];
        var schedulerUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var agentUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var environment = deployment.Environment();

        await using var scheduler = CloudPortalProcess.Start(["serve", "scheduler", "--urls", schedulerUrl, "--data-dir", deployment.DataDir], environment);
        await scheduler.WaitUntilReadyAsync(schedulerUrl, CloudPortalProcess.ReadyTimeout);
        await using var agent = CloudPortalProcess.Start(["agent", "--host", node, "--urls", agentUrl, "--data-dir", deployment.NewDirectory()], environment);
        await agent.WaitUntilReadyAsync(agentUrl, CloudPortalProcess.ReadyTimeout);

        // admin hosts reads the Scheduler's PostgreSQL database, from yet another process and data directory.
        var admin = new[] { "admin", "hosts", "--data-dir", deployment.NewDirectory() };
        var first = await Eventually.OutputAsync(admin, environment, output => output.Contains(node, StringComparison.Ordinal));
        var line = Row(first, node);
        Assert.Contains(" up ", line, StringComparison.Ordinal);
        // libvirtd runs here (the CI script starts it), so capacity comes from the hypervisor.
        Assert.Contains(" libvirt ", line, StringComparison.Ordinal);
        Assert.Contains("QEMU", line, StringComparison.Ordinal);

        // Heartbeats keep coming: the last-heartbeat time moves forward.
        var firstBeat = Heartbeat(line);
        var later = await Eventually.OutputAsync(admin, environment, output => Heartbeat(Row(output, node)) > firstBeat);
        Assert.True(Heartbeat(Row(later, node)) > firstBeat);
        Assert.DoesNotContain("Exception", scheduler.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", agent.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Agent_and_scheduler_in_one_process_on_the_in_memory_bus_and_SQLite_register_the_node()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var node = $"node-{Guid.NewGuid():N}"[..13];
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var environment = deployment.Environment();
        environment["CloudPortal__Agent__Host"] = node;

        await using var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], environment);
        await cloud.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        var admin = new[] { "admin", "hosts", "--data-dir", deployment.DataDir };
        var first = await Eventually.OutputAsync(admin, environment, output => output.Contains(node, StringComparison.Ordinal));
        var firstBeat = Heartbeat(Row(first, node));
        var later = await Eventually.OutputAsync(admin, environment, output => Heartbeat(Row(output, node)) > firstBeat);
        Assert.Contains(" up ", Row(later, node), StringComparison.Ordinal);
    }

    [Fact]
    public async Task All_in_one_without_libvirt_says_so_and_runs_the_simulated_hypervisor_labelled_as_such()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var node = $"node-{Guid.NewGuid():N}"[..13];
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var environment = deployment.Environment();
        environment["CloudPortal__Agent__Host"] = node;
        environment["CloudPortal__Agent__Libvirt"] = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

        await using var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], environment);
        await cloud.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        var hosts = await Eventually.OutputAsync(["admin", "hosts", "--data-dir", deployment.DataDir], environment, output => output.Contains(node, StringComparison.Ordinal));
        var line = Row(hosts, node);
        Assert.Contains("TEST (simulated)", line, StringComparison.Ordinal);
        Assert.Contains(" libvirt ", line, StringComparison.Ordinal);
        Assert.Contains("running the SIMULATED hypervisor", cloud.Output, StringComparison.Ordinal);
    }

    private static string Row(string table, string node) =>
        table.Split('\n').Single(l => l.StartsWith(node + " ", StringComparison.Ordinal));

    private static DateTime Heartbeat(string row) =>
        DateTime.ParseExact(HeartbeatPattern().Match(row).Value, "yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ")]
    private static partial Regex HeartbeatPattern();
}
