using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Compute.Tests.Lifecycle;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Build;

/// <summary>
/// Launches survive the failures a cloud meets: the compute process killed while its instances are being scheduled,
/// a broker restart in the middle of a burst of launches, a node that does not answer in time (and answers late). In
/// each case every instance ends in one state, once: no duplicate domain, no leaked claim, nothing left behind.
/// </summary>
public sealed class FaultTests
{
    [Fact]
    public async Task Compute_killed_while_instances_are_scheduling_builds_each_exactly_once_after_it_restarts()
    {
        await using var cloud = await TestCloud.StartAsync("distributed", LifecycleSettings.FastAgent);
        var (tenants, member, image) = await PrepareAsync(cloud);

        var ids = await member.LaunchOkAsync(new { name = "crash", flavorId = NanoFlavor, imageId = image, minCount = 5, maxCount = 5 });
        await cloud.CrashAndRestartComputeAsync();

        foreach (var id in ids)
            await member.WaitForStatusAsync(id, "active");
        await AssertEachRunsOnceAsync(cloud, tenants, ids);
        await DeleteAllAsync(cloud, tenants, member, ids);
    }

    [Fact]
    public async Task A_broker_restart_during_ten_launches_leaves_each_instance_active_exactly_once()
    {
        await using var broker = await PrivateRabbitMq.StartAsync();
        var environment = new Dictionary<string, string?>(LifecycleSettings.FastAgent) { ["CloudPortal__Bus__RabbitMq"] = broker.Uri };
        await using var cloud = await TestCloud.StartAsync("distributed", environment);
        var (tenants, member, image) = await PrepareAsync(cloud);

        // Ten clients, each retrying its own request with its own client token (as the AWS SDKs do) until it is answered.
        var launches = Enumerable.Range(0, 10).Select(i => LaunchWithRetriesAsync(member, new
        {
            name = $"burst-{i}", flavorId = NanoFlavor, imageId = image, clientToken = $"burst-{i}-{Guid.NewGuid():N}",
        })).ToList();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await broker.RestartAsync(downFor: TimeSpan.FromSeconds(3));
        var ids = (await Task.WhenAll(launches)).ToList();

        foreach (var id in ids)
            await member.WaitForStatusAsync(id, "active", TimeSpan.FromMinutes(3));
        await AssertEachRunsOnceAsync(cloud, tenants, ids);
        await DeleteAllAsync(cloud, tenants, member, ids);
    }

    [Fact]
    public async Task With_the_broker_down_a_launch_answers_503_within_its_bound_and_creates_nothing()
    {
        await using var broker = await PrivateRabbitMq.StartAsync();
        var environment = new Dictionary<string, string?>(LifecycleSettings.FastAgent)
        {
            ["CloudPortal__Bus__RabbitMq"] = broker.Uri,
            ["CloudPortal__Compute__RequestTimeout"] = "00:00:05",
        };
        await using var cloud = await TestCloud.StartAsync("distributed", environment);
        var tenants = await Tenants.CreateAsync(cloud);
        using (var admin = new ComputeClient(cloud, tenants.AdminToken, null))
        using (var created = await admin.Http.PostAsJsonAsync("compute/v1/flavors", new { name = NanoFlavor, vcpus = 1, ramMb = 64, diskGb = 1 }))
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        using var member = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);

        await broker.StopAppAsync();
        try
        {
            // The image lookup cannot be sent while the bus reconnects; the launch must say so, not wait for the broker.
            // The client's patience is far beyond the 5 s bound, so only an unbounded wait fails here.
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            using var answer = await member.Http.PostAsJsonAsync("compute/v1/instances",
                new { name = "broker-down", flavorId = NanoFlavor, imageId = Guid.NewGuid() }, patience.Token);
            var text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)answer.StatusCode} {text}");
            Assert.Equal("images_unavailable", JsonDocument.Parse(text).RootElement.GetProperty("code").GetString());
            using var listed = await member.Http.GetAsync("compute/v1/instances");
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            Assert.Equal(0, (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("instances").GetArrayLength());
        }
        finally
        {
            await broker.StartAppAsync();
        }
    }

    [Fact]
    public async Task A_build_past_its_timeout_gives_up_its_claim_and_a_late_spawn_leaves_no_domain()
    {
        var environment = new Dictionary<string, string?>(LifecycleSettings.FastAgent) { ["CloudPortal__Compute__BuildTimeout"] = "00:00:08" };
        await using var cloud = await TestCloud.StartAsync("distributed", environment);
        var (tenants, member, image) = await PrepareAsync(cloud);

        // The node stops answering but is still "up" for the Scheduler (its heartbeat is recent): the spawn waits in its queue.
        await cloud.StopAgentAsync(cloud.Node);
        var id = await member.LaunchOneAsync(image, NanoFlavor, "late");
        var failed = await member.WaitForStatusAsync(id, "error");
        Assert.Equal("build_timeout", failed.GetProperty("fault").GetProperty("code").GetString());
        await Eventually.TrueAsync(async () => (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Count == 0, "the claim released");

        // The node comes back and carries out the spawn it was sent: Compute answers the late InstanceSpawned with a delete.
        var agent = await cloud.StartAgentAsync(cloud.Node);
        await Eventually.TrueAsync(() => Task.FromResult(cloud.ComputeProcess.Output.Contains($"Instance {id} was spawned on {cloud.Node} although it is Error", StringComparison.Ordinal)),
            "Compute to hear the late spawn", TimeSpan.FromMinutes(3), () => agent.Output);
        await Eventually.TrueAsync(async () => !(await Virsh.DomainsAsync()).Contains($"cp-{id}"), "the late domain removed");
        var still = await member.ShowAsync(id);
        Assert.Equal("error", still.GetProperty("status").GetString());
        Assert.Equal("build_timeout", still.GetProperty("fault").GetProperty("code").GetString());
        Assert.Empty(await Admin.AllocationsAsync(cloud, tenants.AdminToken));
    }

    private const string NanoFlavor = "test.nano";

    private static async Task<(Tenants Tenants, ComputeClient Member, Guid Image)> PrepareAsync(TestCloud cloud)
    {
        var tenants = await Tenants.CreateAsync(cloud);
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, cloud.Node);
        // Ten one-vCPU guests on a two-core machine: allow 16 vCPUs per core here.
        await Admin.SetHostAsync(cloud, tenants.AdminToken, cloud.Node, new { cpuAllocationRatio = 16.0 });
        using (var admin = new ComputeClient(cloud, tenants.AdminToken, null))
        using (var created = await admin.Http.PostAsJsonAsync("compute/v1/flavors", new { name = NanoFlavor, vcpus = 1, ramMb = 64, diskGb = 1 }))
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var member = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);
        return (tenants, member, await member.UploadGuestAsync());
    }

    /// <summary>
    /// Retries as the AWS SDKs do: after a 503, and after no answer within a minute (the same client token makes a repeat
    /// safe; whether each instance then exists once is what the test checks).
    /// </summary>
    private static async Task<Guid> LaunchWithRetriesAsync(ComputeClient member, object body)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            HttpResponseMessage answer;
            try
            {
                answer = await member.Http.PostAsJsonAsync("compute/v1/instances", body, patience.Token);
            }
            catch (OperationCanceledException) when (patience.IsCancellationRequested && attempt < 30)
            {
                continue;
            }
            using var response = answer;
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.Accepted)
                return JsonDocument.Parse(text).RootElement.GetProperty("instances")[0].GetProperty("id").GetGuid();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 30, $"launch attempt {attempt}: {(int)response.StatusCode} {text}");
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Each instance has one running domain and one claim, and nothing else of this cloud exists.</summary>
    private static async Task AssertEachRunsOnceAsync(TestCloud cloud, Tenants tenants, IReadOnlyCollection<Guid> ids)
    {
        var domains = (await Virsh.DomainsAsync()).Where(d => Owned(d, ids)).ToList();
        Assert.Equal(ids.Count, domains.Count);
        foreach (var domain in domains)
            Assert.Equal("running", await Virsh.StateAsync(domain));
        await Eventually.TrueAsync(async () =>
        {
            var claims = (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Select(a => a.GetProperty("consumerId").GetGuid()).ToList();
            return claims.Count == ids.Count && claims.ToHashSet().SetEquals(ids);
        }, "one claim per instance and no other");
    }

    private static async Task DeleteAllAsync(TestCloud cloud, Tenants tenants, ComputeClient member, IReadOnlyCollection<Guid> ids)
    {
        foreach (var id in ids)
            await member.DeleteAsync(id);
        foreach (var id in ids)
            await member.WaitForStatusAsync(id, "deleted");
        await Eventually.TrueAsync(async () => (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Count == 0, "no allocation left");
        Assert.DoesNotContain(await Virsh.DomainsAsync(), d => Owned(d, ids));
        member.Dispose();
    }

    private static bool Owned(string domain, IReadOnlyCollection<Guid> ids) =>
        domain.StartsWith("cp-", StringComparison.Ordinal) && Guid.TryParse(domain.AsSpan(3), out var id) && ids.Contains(id);
}
