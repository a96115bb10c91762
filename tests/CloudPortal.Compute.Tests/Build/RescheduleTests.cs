using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Compute.Tests.Lifecycle;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Build;

/// <summary>
/// The conductor's retries and refusals, on a distributed cloud with a good node (real libvirt) and nodes whose
/// libvirt is unreachable (they still report the machine's capacity, so the Scheduler picks them, and every spawn there
/// fails with hypervisor_unavailable): a failed spawn is retried on another host; when every host fails or none fits,
/// the instance is in ERROR with a fault that says why, and no claim is left behind.
/// </summary>
public sealed class RescheduleTests
{
    private const string BrokenLibvirt = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";

    [Fact]
    public async Task A_failed_spawn_is_rebuilt_on_another_host_and_when_every_host_fails_or_none_fits_the_fault_says_why()
    {
        var environment = new Dictionary<string, string?>(LifecycleSettings.FastAgent)
        {
            // Always the best-weighed host, so the first attempt goes where the test wants it.
            ["CloudPortal__Scheduler__HostSubsetSize"] = "1",
        };
        await using var cloud = await TestCloud.StartAsync("distributed", environment);
        var tenants = await Tenants.CreateAsync(cloud);
        var broken = $"{cloud.Node}-broken";
        var brokenAgent = await cloud.StartAgentAsync(broken, new Dictionary<string, string?> { ["CloudPortal__Agent__Libvirt"] = BrokenLibvirt });
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, cloud.Node);
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, broken);
        // The good node looks fuller, so the broken one is weighed first (the RAM weigher prefers free memory).
        await Admin.SetHostAsync(cloud, tenants.AdminToken, cloud.Node, new { reservedMemoryMb = 4096 });
        using var member = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var admin = new ComputeClient(cloud, tenants.AdminToken, null);
        var image = await member.UploadGuestAsync();

        // 1. The first attempt fails on the broken node; the second builds it on the good one.
        var rebuilt = await member.LaunchOneAsync(image, name: "rescheduled");
        await member.WaitForStatusAsync(rebuilt, "active");
        Assert.Equal(cloud.Node, (await admin.ShowAsync(rebuilt)).GetProperty("host").GetString());
        await Eventually.TrueAsync(() => Task.FromResult(brokenAgent.Output.Contains($"Spawn of instance {rebuilt} failed: hypervisor_unavailable", StringComparison.Ordinal)),
            "the broken node's agent to have refused the first attempt", last: () => brokenAgent.Output);
        await member.WaitForConsoleLineAsync(rebuilt);

        // 2. Only broken nodes left: every attempt fails, then no host is left to try.
        var brokenToo = $"{cloud.Node}-broken2";
        await cloud.StartAgentAsync(brokenToo, new Dictionary<string, string?> { ["CloudPortal__Agent__Libvirt"] = BrokenLibvirt });
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, brokenToo);
        using (var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken))
            (await scheduler.PostAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}/disable", new { reason = "test: only broken nodes" })).EnsureSuccessStatusCode();
        var doomed = await member.LaunchOneAsync(image, name: "doomed");
        var failed = await member.WaitForStatusAsync(doomed, "error");
        var fault = failed.GetProperty("fault");
        Assert.Equal("no_valid_host", fault.GetProperty("code").GetString());
        Assert.Contains("The build failed on 2 hosts (the host's hypervisor was unavailable)", fault.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, fault.GetProperty("details").ValueKind);   // tenants get the sentence, not the table
        var adminFault = (await admin.ShowAsync(doomed)).GetProperty("fault");
        var attempts = adminFault.GetProperty("details").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([broken, brokenToo], attempts.Select(a => a.GetProperty("host").GetString()).Order().ToList());
        Assert.All(attempts, a => Assert.Equal("hypervisor_unavailable", a.GetProperty("code").GetString()));

        // 3. A flavor larger than every node: the Scheduler's sentence, for tenants, in the fault.
        using (var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken))
            (await scheduler.PostAsync($"scheduler/v1/hosts/{cloud.Node}/enable", null)).EnsureSuccessStatusCode();
        using (var flavors = await admin.Http.PostAsJsonAsync("compute/v1/flavors", new { name = "huge", vcpus = 512, ramMb = 1024, diskGb = 1 }))
            Assert.True(flavors.IsSuccessStatusCode, await flavors.Content.ReadAsStringAsync());
        using (var quota = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken))
            (await quota.PutAsJsonAsync($"identity/v1/projects/{tenants.ProjectA}/quota/cores", new { limit = 1000 })).EnsureSuccessStatusCode();
        await Eventually.TrueAsync(async () => ComputeClient.Line(await member.QuotaAsync(), "cores", "limit") == 1000, "Compute enforcing cores=1000");
        var huge = await member.LaunchOneAsync(image, flavor: "huge", name: "huge");
        var unschedulable = await member.WaitForStatusAsync(huge, "error");
        var noHost = unschedulable.GetProperty("fault");
        Assert.Equal("no_valid_host", noHost.GetProperty("code").GetString());
        Assert.Matches("vCPU", noHost.GetProperty("message").GetString()!);
        Assert.DoesNotContain(cloud.Node, noHost.GetProperty("message").GetString(), StringComparison.Ordinal);
        var filters = (await admin.ShowAsync(huge)).GetProperty("fault").GetProperty("details").GetProperty("scheduler").GetProperty("filters");
        Assert.Contains(filters.EnumerateArray(), f => f.GetProperty("removed").GetInt32() > 0);

        // Failed builds hold nothing; the one that runs holds its one claim.
        await Eventually.TrueAsync(async () => (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Select(a => a.GetProperty("consumerId").GetGuid()).SequenceEqual([rebuilt]),
            "only the running instance holding a claim");
        await member.DeleteAsync(rebuilt);
        await member.WaitForStatusAsync(rebuilt, "deleted");
        await Eventually.TrueAsync(async () => (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Count == 0, "no allocation left");
    }
}
