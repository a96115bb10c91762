using System.Xml.Linq;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Tests.Libvirt;
using CloudPortal.Contracts.Compute;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// The whole life of an instance through the agent's queue: the image comes over HTTP as qcow2, the agent spawns it
/// and (on QEMU) the guest writes its line to the console log; every power action reaches the libvirt state it
/// should; delete leaves nothing of the instance in libvirt but the shared, cached base image.
/// </summary>
public sealed class InstanceLifecycleTests : AgentTestBase
{
    private static readonly TimeSpan ShortStop = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task Spawns_an_instance_runs_every_power_action_and_deletes_it(string uri)
    {
        using var libvirt = Open(uri);
        var qemu = uri == Qemu;
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var image = BootImage();
        var spawn = NewSpawn(agent, image);
        var id = spawn.InstanceId;

        var spawned = await compute.SpawnAsync(spawn);

        Assert.Equal((DomainXml.DomainName(id), PowerState.Running, false, false), (spawned.DomainName, spawned.PowerState, spawned.AlreadyExisted, spawned.Simulated && qemu));
        using (var domain = libvirt.LookupDomainByUuid(id)!)
        {
            Assert.Equal(DomainXml.DomainName(id), domain.Name);
            Assert.Equal(DomainState.Running, domain.GetState().State);
            var xml = XDocument.Parse(domain.GetXmlDesc()).Root!;
            Assert.Equal(qemu ? LibvirtTestHost.DomainType(libvirt) : "test", (string?)xml.Attribute("type"));
            Assert.Equal(1, (int)xml.Element("vcpu")!);
            Assert.Equal(64 * 1024, (long)xml.Element("memory")!);
            Assert.Equal("virtio", (string?)xml.Element("devices")!.Element("disk")!.Element("target")!.Attribute("bus"));
            var metadata = DomainXml.ReadMetadata(domain.GetXmlDesc())!;
            Assert.Equal((id, spawn.ProjectId, agent.Setup.Host, Tiny, image.ImageId), (metadata.InstanceId, metadata.ProjectId, metadata.Host, metadata.Flavor, metadata.ImageId));
        }
        // One cached base image, one overlay on it, sized to the flavor's root disk.
        var baseName = Assert.Single(VolumeNames(libvirt, agent.Setup.ImagesPool));
        Assert.StartsWith(image.ImageId.ToString(), baseName, StringComparison.Ordinal);
        using (var pool = libvirt.LookupStoragePoolByName(agent.Setup.InstancesPool)!)
        using (var overlay = pool.LookupVolumeByName($"{id}.qcow2")!)
        {
            Assert.Equal(1024UL * 1024 * 1024, overlay.GetInfo().CapacityBytes);
            if (qemu)
                Assert.EndsWith(baseName, (string?)XDocument.Parse(overlay.GetXmlDesc()).Root!.Element("backingStore")!.Element("path"), StringComparison.Ordinal);
        }

        if (qemu)
        {
            await WaitForConsoleAsync(compute, id);
            var vnc = Assert.IsType<VncEndpoint>(await compute.RequestAsync<GetVncEndpoint, VncEndpoint>(new GetVncEndpoint(id, agent.Setup.Host)));
            Assert.Equal("127.0.0.1", vnc.Address);
            Assert.True(vnc.Port >= 5900, $"VNC port {vnc.Port}");
        }
        else
        {
            Assert.Equal("", Assert.IsType<ConsoleLog>(await compute.RequestAsync<GetConsoleLog, ConsoleLog>(new GetConsoleLog(id, agent.Setup.Host))).Output);
        }

        // Stop: the boot-sector guest ignores the ACPI button, so QEMU's guest is forced off after the timeout.
        var stopped = await compute.ActAsync(new StopInstance(id, agent.Setup.Host, ShortStop), id, InstanceAction.Stop);
        Assert.Equal((PowerState.Shutdown, true), (stopped.PowerState, stopped.Changed));
        Assert.Equal(DomainState.Shutoff, StateOf(libvirt, id).State);
        await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == id && e.PowerState == PowerState.Shutdown, "power state Shutdown");
        var again = await compute.ActAsync(new StopInstance(id, agent.Setup.Host, ShortStop), id, InstanceAction.Stop);
        Assert.Equal((PowerState.Shutdown, false, "already stopped"), (again.PowerState, again.Changed, again.Detail));

        Assert.Equal(PowerState.Running, (await compute.ActAsync(new StartInstance(id, agent.Setup.Host), id, InstanceAction.Start)).PowerState);
        Assert.Equal(DomainState.Running, StateOf(libvirt, id).State);
        if (qemu)
            await WaitForConsoleAsync(compute, id, count: 2);

        var soft = await compute.ActAsync(new RebootInstance(id, agent.Setup.Host, Hard: false, ShortStop), id, InstanceAction.Reboot);
        Assert.Equal(PowerState.Running, soft.PowerState);
        Assert.Equal(DomainState.Running, StateOf(libvirt, id).State);
        if (qemu)
        {
            Assert.StartsWith("hard reboot: the guest ignored the ACPI power button", soft.Detail, StringComparison.Ordinal);
            await WaitForConsoleAsync(compute, id, count: 3);
        }

        var hard = await compute.ActAsync(new RebootInstance(id, agent.Setup.Host, Hard: true), id, InstanceAction.Reboot);
        Assert.Equal((PowerState.Running, "hard reboot: destroyed and booted"), (hard.PowerState, hard.Detail));
        if (qemu)
            await WaitForConsoleAsync(compute, id, count: 4);

        Assert.Equal(PowerState.Paused, (await compute.ActAsync(new PauseInstance(id, agent.Setup.Host), id, InstanceAction.Pause)).PowerState);
        Assert.Equal(DomainState.Paused, StateOf(libvirt, id).State);
        Assert.False((await compute.ActAsync(new PauseInstance(id, agent.Setup.Host), id, InstanceAction.Pause)).Changed);
        Assert.Equal(PowerState.Running, (await compute.ActAsync(new UnpauseInstance(id, agent.Setup.Host), id, InstanceAction.Unpause)).PowerState);
        Assert.Equal(DomainState.Running, StateOf(libvirt, id).State);

        Assert.Equal(PowerState.Suspended, (await compute.ActAsync(new SuspendInstance(id, agent.Setup.Host), id, InstanceAction.Suspend)).PowerState);
        Assert.Equal(DomainState.Shutoff, StateOf(libvirt, id).State);
        Assert.True(HasManagedSave(libvirt, id));
        Assert.Equal(PowerState.Running, (await compute.ActAsync(new ResumeInstance(id, agent.Setup.Host), id, InstanceAction.Resume)).PowerState);
        Assert.Equal(DomainState.Running, StateOf(libvirt, id).State);
        Assert.False(HasManagedSave(libvirt, id));

        var deleted = await compute.ActAsync(new DeleteInstance(id, agent.Setup.Host), id, InstanceAction.Delete);
        Assert.Equal((PowerState.NoState, true), (deleted.PowerState, deleted.Changed));
        AssertNothingLeft(libvirt, agent, id);
        Assert.False(File.Exists(Path.Combine(agent.Setup.ConsolePath, $"{id}.log")));
        // The base image stays cached for the next instance.
        Assert.Equal([baseName], VolumeNames(libvirt, agent.Setup.ImagesPool));
        await compute.Events.WaitForAsync<InstancePowerStateChanged>(e => e.InstanceId == id && e.PowerState == PowerState.NoState, "power state NoState after delete");

        var unknown = await compute.ActFailingAsync(new DeleteInstance(id, agent.Setup.Host), id, InstanceAction.Delete);
        Assert.Equal(AgentFailureCodes.InstanceNotFound, unknown.Code);
        Assert.DoesNotContain(" Error ", agent.Logs, StringComparison.Ordinal);
    }
}
