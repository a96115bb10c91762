using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// Changes made behind CloudPortal's back reach the bus: libvirt's lifecycle event becomes an
/// <see cref="InstancePowerStateChanged"/> within two seconds, and the periodic report lists the new state.
/// </summary>
public sealed class PowerStateEventTests : AgentTestBase
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task Virsh_destroy_and_start_outside_CloudPortal_become_power_state_events_and_reports(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var spawn = NewSpawn(agent, BootImage());
        var id = spawn.InstanceId;
        await compute.SpawnAsync(spawn);
        await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == id && e.PowerState == PowerState.Running, "Running");

        var destroyedAt = await OutOfBandAsync(uri, libvirt, "destroy", id);
        var stopped = await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == id && e.PowerState == PowerState.Shutdown && e.Source == PowerStateSources.LibvirtEvent, "Shutdown after virsh destroy");

        Assert.Equal((agent.Setup.Host, "stopped: destroyed", PowerStateSources.LibvirtEvent, uri == TestDriver),
            (stopped.Host, stopped.Reason, stopped.Source, stopped.Simulated));
        Assert.True(stopped.At - destroyedAt <= Bound, $"the event came {(stopped.At - destroyedAt).TotalSeconds:0.000} s after virsh destroy returned");
        var report = await compute.Events.WaitForAsync<NodeInstancesReported>(
            r => r.Instances.Any(i => i.InstanceId == id && i.PowerState == PowerState.Shutdown), "a report with the instance stopped");
        var listed = Assert.Single(report.Instances, i => i.InstanceId == id);
        Assert.Equal((spawn.ProjectId, Tiny.Name), (listed.ProjectId, listed.Flavor));
        Assert.Equal(agent.Setup.Host, report.Host);

        var startedAt = await OutOfBandAsync(uri, libvirt, "start", id);
        var started = await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == id && e.PowerState == PowerState.Running && e.Source == PowerStateSources.LibvirtEvent, "Running after virsh start");
        Assert.True(started.At - startedAt <= Bound, $"the event came {(started.At - startedAt).TotalSeconds:0.000} s after virsh start returned");
        await compute.Events.WaitForAsync<NodeInstancesReported>(r => r.Instances.Any(i => i.InstanceId == id && i.PowerState == PowerState.Running), "a report with the instance running");

        await compute.ActAsync(new DeleteInstance(id, agent.Setup.Host), id, InstanceAction.Delete);
        await compute.Events.WaitForAsync<NodeInstancesReported>(r => r.Instances.All(i => i.InstanceId != id), "a report without the deleted instance");
    }

    [Fact]
    public async Task Reports_only_the_instances_of_its_own_node()
    {
        using var libvirt = Open(TestDriver);
        await using var mine = await AgentHost.StartAsync(AgentSetup.Create(TestDriver, Leftovers));
        await using var other = await AgentHost.StartAsync(AgentSetup.Create(TestDriver, Leftovers));
        var image = BootImage();
        var spawn = NewSpawn(mine, image);
        var theirs = NewSpawn(other, image);
        await mine.Compute!.SpawnAsync(spawn);
        await other.Compute!.SpawnAsync(theirs);

        var report = await mine.Compute.Events.WaitForAsync<NodeInstancesReported>(r => r.Instances.Count > 0, "a report");
        Assert.Equal([spawn.InstanceId], report.Instances.Select(i => i.InstanceId));
        // Neither may act on the other's instance, although both see it in libvirt.
        var refused = await mine.Compute.ActFailingAsync(new StopInstance(theirs.InstanceId, mine.Setup.Host), theirs.InstanceId, InstanceAction.Stop);
        Assert.Equal(AgentFailureCodes.DomainConflict, refused.Code);
        Assert.Equal(DomainState.Running, StateOf(libvirt, theirs.InstanceId).State);

        await mine.Compute.ActAsync(new DeleteInstance(spawn.InstanceId, mine.Setup.Host), spawn.InstanceId, InstanceAction.Delete);
        await other.Compute.ActAsync(new DeleteInstance(theirs.InstanceId, other.Setup.Host), theirs.InstanceId, InstanceAction.Delete);
        Assert.DoesNotContain(mine.Compute.Events.All<InstancePowerStateChanged>(), e => e.InstanceId == theirs.InstanceId);
    }

    /// <summary>
    /// What an operator does with virsh; returns when the change was done (virsh destroy returns once QEMU is gone, which
    /// under load alone can take seconds). The test driver lives inside this process, so there the test's own
    /// connection stands in for virsh: either way the change bypasses the agent.
    /// </summary>
    private static async Task<DateTimeOffset> OutOfBandAsync(string uri, LibvirtConnection libvirt, string verb, Guid instanceId)
    {
        if (uri == TestDriver)
        {
            using var domain = libvirt.LookupDomainByUuid(instanceId)!;
            if (verb == "destroy")
                domain.Destroy();
            else
                domain.Start();
            return DateTimeOffset.UtcNow;
        }
        CommandResult virsh;
        try
        {
            virsh = await ChildProcess.RunAsync("virsh", ["-c", uri, verb, DomainXml.DomainName(instanceId)], TimeSpan.FromSeconds(30));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            TestEnvironment.Unavailable("virsh", $"{ex.Message}; install libvirt-clients");
            throw;
        }
        Assert.True(virsh.ExitCode == 0, $"virsh {verb} failed: {virsh.StandardError}");
        return DateTimeOffset.UtcNow;
    }
}
