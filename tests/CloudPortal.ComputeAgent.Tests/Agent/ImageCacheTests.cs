using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
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
    public async Task A_download_is_a_plain_GET_of_the_signed_URL_given_and_carries_no_credential()
    {
        using var libvirt = Open(TestDriver);
        await using var agent = await AgentHost.StartAsync(AgentSetup.Create(TestDriver, Leftovers));
        var compute = agent.Compute!;
        var data = GuestImage.Qcow2();
        var signature = "c2lnbmF0dXJlLW9mLXRoZS1pbWFnZS1zZXJ2ZXItdGVzdA";
        var query = $"?expires=4102444800&signature={signature}";
        var id = Guid.NewGuid();
        var path = $"/images/v2/images/{id}/compute-file";
        var signed = new ImageSource(id, Images.Serve(path, data, query), TestImages.Sha256(data), data.Length, DiskFormats.Qcow2);

        await compute.SpawnAsync(NewSpawn(agent, signed));
        var request = Assert.Single(Images.Requests, r => r.Path == path);
        Assert.Equal((query, (string?)null), (request.Query, request.Authorization));

        // A URL the server refuses (its signature cut off): the spawn fails, and the reason does not quote the signature.
        var otherId = Guid.NewGuid();
        var otherPath = $"/images/v2/images/{otherId}/compute-file";
        Images.Serve(otherPath, data, query);
        var cut = signed with { ImageId = otherId, Url = new Uri(Images.BaseAddress, $"{otherPath}?expires=4102444800&signature={signature[..20]}") };
        var refused = await compute.SpawnFailureAsync(NewSpawn(agent, cut));
        Assert.Equal(AgentFailureCodes.ImageDownloadFailed, refused.Code);
        Assert.Contains($"GET {Images.BaseAddress.GetLeftPart(UriPartial.Authority)}{otherPath}?… answered 403", refused.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(signature[..20], refused.Reason, StringComparison.Ordinal);
        Assert.Null(Assert.Single(Images.Requests, r => r.Path == otherPath).Authorization);
    }
}
