using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>The node's image cache: one download per image, never a partial one, shared by overlays, kept by deletes.</summary>
public sealed class ImageCacheTests : AgentTestBase
{
    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task Instances_of_one_image_share_one_download_and_deleting_one_keeps_the_base_for_the_other(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var image = BootImage();
        var spawns = Enumerable.Range(0, 3).Select(_ => NewSpawn(agent, image)).ToList();

        // Sent together: they run in parallel and meet at the image's download.
        await Task.WhenAll(spawns.Select(s => compute.SendAsync(s)));
        foreach (var spawn in spawns)
            Assert.IsType<InstanceSpawned>(await compute.Events.SpawnAnswerAsync(spawn.InstanceId));

        Assert.Equal(1, Images.Count(image.Url.AbsolutePath));
        var baseImage = Assert.Single(VolumeNames(libvirt, agent.Setup.ImagesPool));
        Assert.Equal(3, VolumeNames(libvirt, agent.Setup.InstancesPool).Count);

        await compute.ActAsync(new DeleteInstance(spawns[0].InstanceId, agent.Setup.Host), spawns[0].InstanceId, InstanceAction.Delete);
        Assert.Equal([baseImage], VolumeNames(libvirt, agent.Setup.ImagesPool));
        // The others still run on it (and could be rebooted from it).
        var rebooted = await compute.ActAsync(new RebootInstance(spawns[1].InstanceId, agent.Setup.Host, Hard: true), spawns[1].InstanceId, InstanceAction.Reboot);
        Assert.Equal(PowerState.Running, rebooted.PowerState);

        // A fourth instance later: no download at all.
        var later = NewSpawn(agent, image);
        await compute.SpawnAsync(later);
        Assert.Equal(1, Images.Count(image.Url.AbsolutePath));

        foreach (var spawn in spawns.Skip(1).Append(later))
            await compute.ActAsync(new DeleteInstance(spawn.InstanceId, agent.Setup.Host), spawn.InstanceId, InstanceAction.Delete);
        Assert.Empty(VolumeNames(libvirt, agent.Setup.InstancesPool));
        Assert.Equal([baseImage], VolumeNames(libvirt, agent.Setup.ImagesPool));
    }

    [Theory]
    [InlineData(Qemu)]
    [InlineData(TestDriver)]
    public async Task A_download_cut_short_is_never_used_and_the_next_spawn_downloads_again(string uri)
    {
        using var libvirt = Open(uri);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(uri, Leftovers));
        var compute = agent.Compute!;
        var image = BootImage();
        Images.TruncateNext(image.Url.AbsolutePath);

        var cut = NewSpawn(agent, image);
        var failure = await compute.SpawnFailureAsync(cut);

        Assert.Equal(AgentFailureCodes.ImageDownloadFailed, failure.Code);
        AssertNothingLeft(libvirt, agent, cut.InstanceId);
        Assert.Empty(Directory.EnumerateFiles(agent.Setup.ImagesPath));
        Assert.Empty(VolumeNames(libvirt, agent.Setup.ImagesPool));

        var retry = NewSpawn(agent, image);
        await compute.SpawnAsync(retry);
        Assert.Equal(2, Images.Count(image.Url.AbsolutePath));
        await compute.ActAsync(new DeleteInstance(retry.InstanceId, agent.Setup.Host), retry.InstanceId, InstanceAction.Delete);
    }

    [Fact]
    public async Task Downloads_from_the_Images_module_carry_a_service_token_and_no_other_download_does()
    {
        using var libvirt = Open(TestDriver);
        Images.RequiredToken = "token-" + Guid.NewGuid().ToString("N");
        var setup = AgentSetup.Create(TestDriver, Leftovers) with
        {
            Extra = new() { ["CloudPortal:Identity:Authority"] = Images.BaseAddress.ToString(), ["CloudPortal:Identity:ServiceClientSecret"] = Images.ClientSecret },
        };
        await using var agent = await AgentHost.StartAsync(setup);
        var compute = agent.Compute!;
        var first = BootImage();
        var second = BootImage();

        await compute.SpawnAsync(NewSpawn(agent, first));
        await compute.SpawnAsync(NewSpawn(agent, second));
        var data = TestImages.Boot();
        var elsewhere = new ImageSource(Guid.NewGuid(), Images.Add($"/mirror/{Guid.NewGuid()}.qcow2", data), TestImages.Sha256(data), data.Length, DiskFormats.Qcow2);
        await compute.SpawnAsync(NewSpawn(agent, elsewhere));

        // One token for both downloads from /images/, none sent anywhere else.
        Assert.Equal(1, Images.TokenRequests);
        Assert.All(Images.Requests.Where(r => r.Path.StartsWith("/images/", StringComparison.Ordinal)), r => Assert.Equal($"Bearer {Images.RequiredToken}", r.Authorization));
        Assert.Null(Assert.Single(Images.Requests, r => r.Path.StartsWith("/mirror/", StringComparison.Ordinal)).Authorization);

        // A wrong secret: the spawn fails with a reason that names the token endpoint.
        Images.ClientSecret = "rotated";
        await using var stale = await AgentHost.StartAsync(setup with { Host = setup.Host + "-b", ImagesPool = setup.ImagesPool, InstancesPool = setup.InstancesPool });
        var refused = await stale.Compute!.SpawnFailureAsync(NewSpawn(stale, BootImage()));
        Assert.Equal(AgentFailureCodes.ImageDownloadFailed, refused.Code);
        Assert.Contains("/identity/connect/token answered 400", refused.Reason, StringComparison.Ordinal);
    }
}
