using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Scheduler;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>libvirt out of reach: the agent says so plainly; with the fallback on it runs the simulated driver and says that everywhere.</summary>
public sealed class SimulatedHypervisorTests : AgentTestBase
{
    private const string Unreachable = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

    [Fact]
    public async Task Without_libvirt_commands_fail_plainly_and_capacity_comes_from_the_OS()
    {
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(Unreachable, Leftovers, effectiveLibvirt: TestDriver));
        var compute = agent.Compute!;

        var node = await compute.Events.WaitForAsync<ComputeNodeReported>(_ => true, "a node report");
        Assert.Equal(("os", "unknown", false), (node.CapacitySource, node.HypervisorType, node.Simulated));

        var spawn = NewSpawn(agent, BootImage());
        var failure = await compute.SpawnFailureAsync(spawn);
        Assert.Equal(AgentFailureCodes.HypervisorUnavailable, failure.Code);
        Assert.StartsWith($"libvirt at {Unreachable} is unreachable: ", failure.Reason, StringComparison.Ordinal);
        var stop = await compute.ActFailingAsync(new StopInstance(spawn.InstanceId, agent.Setup.Host), spawn.InstanceId, InstanceAction.Stop);
        Assert.Equal(AgentFailureCodes.HypervisorUnavailable, stop.Code);
        Assert.Contains($"libvirt at {Unreachable} is unreachable", agent.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_fallback_the_simulated_hypervisor_runs_instances_and_every_report_says_simulated()
    {
        using var libvirt = Open(TestDriver);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(Unreachable, Leftovers, effectiveLibvirt: TestDriver) with { SimulatedFallback = true });
        var compute = agent.Compute!;

        var node = await compute.Events.WaitForAsync<ComputeNodeReported>(_ => true, "a node report");
        Assert.Equal(("libvirt", "TEST", true), (node.CapacitySource, node.HypervisorType, node.Simulated));
        Assert.Contains("running the SIMULATED hypervisor test:///default", agent.Logs, StringComparison.Ordinal);

        var spawn = NewSpawn(agent, BootImage());
        var spawned = await compute.SpawnAsync(spawn);
        Assert.True(spawned.Simulated);
        Assert.True((await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == spawn.InstanceId, "a power state")).Simulated);
        Assert.True((await compute.Events.WaitForAsync<NodeInstancesReported>(r => r.Instances.Count > 0, "a report")).Simulated);
        var stopped = await compute.ActAsync(new StopInstance(spawn.InstanceId, agent.Setup.Host), spawn.InstanceId, InstanceAction.Stop);
        Assert.True(stopped.Simulated);
        await compute.ActAsync(new DeleteInstance(spawn.InstanceId, agent.Setup.Host), spawn.InstanceId, InstanceAction.Delete);
        AssertNothingLeft(libvirt, agent, spawn.InstanceId);
    }
}
