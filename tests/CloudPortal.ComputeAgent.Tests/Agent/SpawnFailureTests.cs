using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// Spawns that cannot succeed: each answered with <see cref="InstanceSpawnFailed"/>, a stable code and a reason a
/// person can act on, and no domain, overlay or half-downloaded image left behind.
/// </summary>
public sealed class SpawnFailureTests : AgentTestBase
{
    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task A_missing_or_unreachable_image_fails_the_spawn(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var image = BootImage();

        var noUrl = NewSpawn(agent, image with { Url = null! });
        var failure = await agent.Compute!.SpawnFailureAsync(noUrl);
        Assert.Equal(AgentFailureCodes.InvalidImageSource, failure.Code);
        Assert.Contains($"image {image.ImageId} has no URL", failure.Reason, StringComparison.Ordinal);
        AssertNothingLeft(libvirt, agent, noUrl.InstanceId);

        var notThere = NewSpawn(agent, image with { Url = new Uri(Images.BaseAddress, "/images/v2/images/missing/compute-file") });
        failure = await agent.Compute.SpawnFailureAsync(notThere);
        Assert.Equal(AgentFailureCodes.ImageDownloadFailed, failure.Code);
        Assert.Contains("answered 404", failure.Reason, StringComparison.Ordinal);
        AssertNothingLeft(libvirt, agent, notThere.InstanceId);

        var ftp = NewSpawn(agent, image with { Url = new Uri("ftp://127.0.0.1/image") });
        Assert.Equal(AgentFailureCodes.InvalidImageSource, (await agent.Compute.SpawnFailureAsync(ftp)).Code);
        Assert.Empty(VolumeNames(libvirt, agent.Setup.ImagesPool));
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task An_image_whose_checksum_does_not_match_is_never_used(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var image = BootImage();
        var wrong = new string('0', 64);

        var spawn = NewSpawn(agent, image with { Sha256 = wrong });
        var failure = await agent.Compute!.SpawnFailureAsync(spawn);

        Assert.Equal(AgentFailureCodes.ImageChecksumMismatch, failure.Code);
        Assert.Contains($"has SHA-256 {image.Sha256}; the command expects {wrong}", failure.Reason, StringComparison.Ordinal);
        AssertNothingLeft(libvirt, agent, spawn.InstanceId);
        Assert.Empty(VolumeNames(libvirt, agent.Setup.ImagesPool));
        Assert.Empty(Directory.EnumerateFiles(agent.Setup.ImagesPath));

        var shorter = NewSpawn(agent, image with { SizeBytes = image.SizeBytes - 1 });
        failure = await agent.Compute.SpawnFailureAsync(shorter);
        Assert.Equal(AgentFailureCodes.ImageChecksumMismatch, failure.Code);
        Assert.Contains($"is {image.SizeBytes} bytes; the command says {image.SizeBytes - 1}", failure.Reason, StringComparison.Ordinal);
        AssertNothingLeft(libvirt, agent, shorter.InstanceId);

        var malformed = NewSpawn(agent, image with { Sha256 = "abc" });
        Assert.Equal(AgentFailureCodes.InvalidImageSource, (await agent.Compute.SpawnFailureAsync(malformed)).Code);
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task Images_that_are_not_what_they_claim_or_refer_to_host_files_are_refused(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var boot = BootImage();

        var asRaw = NewSpawn(agent, boot with { DiskFormat = DiskFormats.Raw });
        var failure = await agent.Compute!.SpawnFailureAsync(asRaw);
        Assert.Equal((AgentFailureCodes.ImageFormatMismatch, $"image {boot.ImageId} is qcow2 data; the command says raw"), (failure.Code, failure.Reason));
        AssertNothingLeft(libvirt, agent, asRaw.InstanceId);

        var backed = Serve(QemuImage("create", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", "{0}", "1M"));
        var unsafeSpawn = NewSpawn(agent, backed);
        failure = await agent.Compute.SpawnFailureAsync(unsafeSpawn);
        Assert.Equal(AgentFailureCodes.ImageUnsafe, failure.Code);
        AssertNothingLeft(libvirt, agent, unsafeSpawn.InstanceId);

        var big = Serve(QemuImage("create", "-f", "qcow2", "{0}", "3G"));
        var tooSmall = NewSpawn(agent, big);
        failure = await agent.Compute.SpawnFailureAsync(tooSmall);
        Assert.Equal((AgentFailureCodes.FlavorDiskTooSmall, $"image {big.ImageId} needs a 3 GiB root disk; flavor {Tiny.Name} has 1 GiB"), (failure.Code, failure.Reason));
        AssertNothingLeft(libvirt, agent, tooSmall.InstanceId);
        Assert.Empty(Directory.EnumerateFiles(agent.Setup.ImagesPath, "*.part"));
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task A_flavor_larger_than_the_node_fails_before_anything_is_downloaded(string uri)
    {
        using var libvirt = Open(uri);
        var node = libvirt.GetNodeInfo();
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var image = BootImage();

        var cpus = NewSpawn(agent, image, new FlavorSpec("cp.test-huge", 4096, 64, 1));
        var failure = await agent.Compute!.SpawnFailureAsync(cpus);
        Assert.Equal(AgentFailureCodes.FlavorTooLarge, failure.Code);
        Assert.Equal($"flavor cp.test-huge needs 4096 vCPUs; node {agent.Setup.Host} has {node.Cpus}", failure.Reason);
        AssertNothingLeft(libvirt, agent, cpus.InstanceId);

        var ram = NewSpawn(agent, image, new FlavorSpec("cp.test-fat", 1, 64 * 1024 * 1024, 1));
        failure = await agent.Compute.SpawnFailureAsync(ram);
        Assert.Equal(AgentFailureCodes.FlavorTooLarge, failure.Code);
        Assert.Equal($"flavor cp.test-fat needs {64 * 1024 * 1024} MB RAM; node {agent.Setup.Host} has {node.MemoryKiB / 1024} MB", failure.Reason);

        var disk = NewSpawn(agent, image, new FlavorSpec("cp.test-wide", 1, 64, 1_000_000));
        Assert.Equal(AgentFailureCodes.FlavorTooLarge, (await agent.Compute.SpawnFailureAsync(disk)).Code);

        var zero = NewSpawn(agent, image, new FlavorSpec("cp.test-none", 0, 64, 1));
        Assert.Equal(AgentFailureCodes.InvalidFlavor, (await agent.Compute.SpawnFailureAsync(zero)).Code);
        Assert.Equal(0, Images.Count(image.Url.AbsolutePath));
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task A_repeated_spawn_answers_again_without_a_second_domain_and_a_conflicting_one_fails(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var spawn = NewSpawn(agent, BootImage());
        var first = await compute.SpawnAsync(spawn);

        var repeated = await compute.SpawnAsync(spawn);

        Assert.False(first.AlreadyExisted);
        Assert.Equal((true, PowerState.Running), (repeated.AlreadyExisted, repeated.PowerState));
        Assert.Single(VolumeNames(libvirt, agent.Setup.InstancesPool));

        var conflicting = await compute.SpawnFailureAsync(spawn with { Flavor = Tiny with { RamMb = 128 } });
        Assert.Equal(AgentFailureCodes.InstanceExists, conflicting.Code);
        Assert.Contains($"instance {spawn.InstanceId} already exists on node {agent.Setup.Host}", conflicting.Reason, StringComparison.Ordinal);
        // The existing instance is untouched.
        Assert.Equal(DomainState.Running, StateOf(libvirt, spawn.InstanceId).State);
        using (var domain = libvirt.LookupDomainByUuid(spawn.InstanceId)!)
            Assert.Equal(64UL * 1024, domain.GetInfo().MaxMemoryKiB);

        // Stopped, a repeated spawn must not boot it again behind the user's back.
        await compute.ActAsync(new StopInstance(spawn.InstanceId, agent.Setup.Host, TimeSpan.FromSeconds(1)), spawn.InstanceId, InstanceAction.Stop);
        Assert.Equal(PowerState.Shutdown, (await compute.SpawnAsync(spawn)).PowerState);
        Assert.Equal(DomainState.Shutoff, StateOf(libvirt, spawn.InstanceId).State);

        await compute.ActAsync(new DeleteInstance(spawn.InstanceId, agent.Setup.Host), spawn.InstanceId, InstanceAction.Delete);
        AssertNothingLeft(libvirt, agent, spawn.InstanceId);
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task Commands_for_unknown_instances_or_the_wrong_state_or_host_fail_and_change_nothing(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var host = agent.Setup.Host;
        var unknown = Guid.NewGuid();

        var delete = await compute.ActFailingAsync(new DeleteInstance(unknown, host), unknown, InstanceAction.Delete);
        Assert.Equal((AgentFailureCodes.InstanceNotFound, $"node {host} has no instance {unknown}", PowerState.NoState), (delete.Code, delete.Reason, delete.PowerState));
        Assert.Equal(AgentFailureCodes.InstanceNotFound, (await compute.ActFailingAsync(new StopInstance(unknown, host), unknown, InstanceAction.Stop)).Code);
        Assert.Equal(AgentFailureCodes.InstanceNotFound,
            Assert.IsType<ConsoleUnavailable>(await compute.RequestAsync<GetConsoleLog, ConsoleLog>(new GetConsoleLog(unknown, host))).Code);

        var spawn = NewSpawn(agent, BootImage());
        var id = spawn.InstanceId;
        await compute.SpawnAsync(spawn);
        await compute.ActAsync(new StopInstance(id, host, TimeSpan.FromSeconds(1)), id, InstanceAction.Stop);

        var pause = await compute.ActFailingAsync(new PauseInstance(id, host), id, InstanceAction.Pause);
        Assert.Equal((AgentFailureCodes.InvalidState, $"cannot pause instance {id}: it is stopped; start it first", PowerState.Shutdown), (pause.Code, pause.Reason, pause.PowerState));
        Assert.Equal(AgentFailureCodes.InvalidState, (await compute.ActFailingAsync(new ResumeInstance(id, host), id, InstanceAction.Resume)).Code);
        Assert.Equal(AgentFailureCodes.InvalidState, (await compute.ActFailingAsync(new SuspendInstance(id, host), id, InstanceAction.Suspend)).Code);
        Assert.Equal(AgentFailureCodes.ConsoleNotRunning,
            Assert.IsType<ConsoleUnavailable>(await compute.RequestAsync<GetVncEndpoint, VncEndpoint>(new GetVncEndpoint(id, host))).Code);
        Assert.Equal(DomainState.Shutoff, StateOf(libvirt, id).State);

        // A command that reached the wrong node's queue is refused rather than run against a different instance.
        var wrongHost = await compute.ActFailingAsync(new StartInstance(id, "another-node"), id, InstanceAction.Start);
        Assert.Equal(AgentFailureCodes.WrongHost, wrongHost.Code);
        Assert.Equal(DomainState.Shutoff, StateOf(libvirt, id).State);

        await compute.ActAsync(new DeleteInstance(id, host), id, InstanceAction.Delete);
        AssertNothingLeft(libvirt, agent, id);
    }

    /// <summary>An image made by qemu-img ("{0}" is the output file), served like the others.</summary>
    private static byte[] QemuImage(params string[] arguments)
    {
        GuestImage.Qcow2();
        var file = Path.Combine(Path.GetTempPath(), $"cp-test-{Guid.NewGuid():N}.qcow2");
        try
        {
            var error = TestImages.QemuImg([.. arguments.Select(a => string.Format(System.Globalization.CultureInfo.InvariantCulture, a, file))]);
            Assert.Null(error);
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private ImageSource Serve(byte[] data)
    {
        var id = Guid.NewGuid();
        return new ImageSource(id, Images.Serve($"/images/v2/images/{id}/compute-file", data), TestImages.Sha256(data), data.Length, DiskFormats.Qcow2);
    }
}
