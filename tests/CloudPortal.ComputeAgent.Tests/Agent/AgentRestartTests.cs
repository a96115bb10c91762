using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// The agent keeps nothing but what libvirt keeps: after a restart it reports its instances, commands on them work,
/// and a command sent while it was down waits in the node's durable RabbitMQ queue and is then carried out.
/// </summary>
public sealed class AgentRestartTests : AgentTestBase
{
    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task An_agent_restart_loses_no_instance_and_no_command(string uri)
    {
        // The test driver's state lives as long as one connection in this process: the test's own holds it.
        using var libvirt = Open(uri);
        await using var rabbit = await TestRabbitMq.CreateAsync();
        var setup = AgentSetup.Create(uri, Leftovers) with { RabbitMq = rabbit.Uri() };
        await using var standIn = await ComputeStandIn.StartAsync(rabbit.Uri(), setup.Host);
        var compute = standIn.Side;

        var first = await AgentHost.StartAsync(setup);
        SpawnInstance spawn;
        try
        {
            spawn = NewSpawn(first, BootImage());
            await compute.SpawnAsync(spawn);
        }
        finally
        {
            await first.DisposeAsync();
        }
        var id = spawn.InstanceId;
        Assert.Equal(DomainState.Running, StateOf(libvirt, id).State);

        // Sent to compute-agent.{host} while no agent listens.
        await compute.SendAsync(new PauseInstance(id, setup.Host));

        await using var second = await AgentHost.StartAsync(setup);
        var paused = await compute.Events.CompletedAsync(id, InstanceAction.Pause);
        Assert.Equal((PowerState.Paused, true), (paused.PowerState, paused.Changed));
        Assert.Equal(DomainState.Paused, StateOf(libvirt, id).State);
        var report = await compute.Events.WaitForAsync<NodeInstancesReported>(
            r => r.Instances.Any(i => i.InstanceId == id && i.PowerState == PowerState.Paused), "a report after the restart with the instance paused");
        Assert.Equal(spawn.ProjectId, report.Instances.Single(i => i.InstanceId == id).ProjectId);

        // Spawned by the first agent, managed by the second: the state lives in libvirt.
        Assert.True((await compute.ActAsync(new UnpauseInstance(id, setup.Host), id, InstanceAction.Unpause)).Changed);
        Assert.True((await compute.SpawnAsync(spawn)).AlreadyExisted);
        await compute.ActAsync(new DeleteInstance(id, setup.Host), id, InstanceAction.Delete);
        AssertNothingLeft(libvirt, second, id);
    }
}
