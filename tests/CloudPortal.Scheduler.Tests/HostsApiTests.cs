using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Scheduler.Tests;

/// <summary>The Scheduler's admin API through the real binary, with real tokens.</summary>
public sealed class HostsApiTests
{
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_cloud_admin_sees_inventories_disables_a_host_with_a_reason_and_changes_its_ratios(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.SchedulerUrl, admin.AccessToken);
        var host = await WaitForHostAsync(api, cloud.Node);
        Assert.True(host.GetProperty("enabled").GetBoolean());
        Assert.Equal(4.0, host.GetProperty("vCpu").GetProperty("allocationRatio").GetDouble());

        using var disabled = await api.PostAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}/disable", new { reason = "disk replacement" });
        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        var detail = await disabled.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(detail.GetProperty("host").GetProperty("enabled").GetBoolean());
        Assert.Equal("disk replacement", detail.GetProperty("host").GetProperty("disabledReason").GetString());

        using var changed = await api.PatchAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}", new { cpuAllocationRatio = 8.0, reservedMemoryMb = 512 });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        var after = (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("host");
        Assert.Equal(8.0, after.GetProperty("vCpu").GetProperty("allocationRatio").GetDouble());
        Assert.Equal(512, after.GetProperty("memory").GetProperty("reserved").GetInt64());

        // The operator's CLI sees the same state (it reads the Scheduler's database).
        var cli = await CloudPortalProcess.RunAsync(["admin", "hosts", "--data-dir", mode == "all-in-one" ? cloud.Deployment.DataDir : cloud.Deployment.NewDirectory()], cloud.Environment());
        Assert.True(cli.ExitCode == 0, cli.Output);
        Assert.Contains("disk replacement", cli.StandardOutput, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"scheduler/v1/hosts/{cloud.Node}/enable", null)).StatusCode);
    }

    [Fact]
    public async Task Bad_admin_input_and_callers_without_the_right_get_clear_refusals()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken);
        await WaitForHostAsync(admin, cloud.Node);

        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}/disable", new { reason = " " }), 400, "invalid_host_setting");
        await ProblemAssert.ExpectAsync(admin.PatchAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}", new { ramAllocationRatio = 0 }), 400, "invalid_host_setting");
        await ProblemAssert.ExpectAsync(admin.PatchAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}", new { reservedVCpus = -1 }), 400, "invalid_host_setting");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("scheduler/v1/hosts/no-such-node/disable", new { reason = "x" }), 404, "host_not_found");
        await ProblemAssert.ExpectAsync(admin.GetAsync("scheduler/v1/hosts/no-such-node"), 404, "host_not_found");
        await ProblemAssert.ExpectAsync(admin.PutAsync($"scheduler/v1/aggregates/none/hosts/{cloud.Node}", null), 404, "aggregate_not_found");

        using var projectAdmin = OidcClient.Api(cloud.SchedulerUrl, tenants.Token("adminA"), tenants.ProjectA);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.GetAsync("scheduler/v1/hosts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.PostAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}/disable", new { reason = "mine now" })).StatusCode);
        using var anonymous = OidcClient.Api(cloud.SchedulerUrl, null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"scheduler/v1/hosts/{cloud.Node}/enable", null)).StatusCode);

        // A service may read, never change.
        using var service = OidcClient.Api(cloud.SchedulerUrl, (await cloud.Oidc.ClientCredentialsAsync(cloud.ServiceSecret)).AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync("scheduler/v1/hosts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await service.PostAsync($"scheduler/v1/hosts/{cloud.Node}/enable", null)).StatusCode);
        var host = await WaitForHostAsync(admin, cloud.Node);
        Assert.True(host.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task Aggregates_group_hosts_with_metadata()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.SchedulerUrl, admin.AccessToken);
        await WaitForHostAsync(api, cloud.Node);

        using (var created = await api.PostAsJsonAsync("scheduler/v1/aggregates", new { name = "ssd", metadata = new Dictionary<string, string> { ["disk"] = "ssd" } }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal("/scheduler/v1/aggregates/ssd", created.Headers.Location?.OriginalString);
            Assert.Equal("ssd", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        }
        using (var added = await api.PutAsync($"scheduler/v1/aggregates/ssd/hosts/{cloud.Node}", null))
        {
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
            Assert.Equal([cloud.Node], (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));
        }
        Assert.Equal("ssd", (await api.GetFromJsonAsync<JsonElement>("scheduler/v1/aggregates/ssd")).GetProperty("name").GetString());
        await ProblemAssert.ExpectAsync(api.PostAsJsonAsync("scheduler/v1/aggregates", new { name = "ssd" }), 409, "aggregate_conflict");

        var aggregates = await api.GetFromJsonAsync<JsonElement>("scheduler/v1/aggregates");
        Assert.Equal(JsonValueKind.Null, aggregates.GetProperty("next").ValueKind);
        var ssd = Assert.Single(aggregates.GetProperty("aggregates").EnumerateArray());
        Assert.Equal("ssd", ssd.GetProperty("metadata").GetProperty("disk").GetString());
        Assert.Equal([cloud.Node], ssd.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("scheduler/v1/aggregates/ssd")).StatusCode);
        Assert.Empty((await api.GetFromJsonAsync<JsonElement>("scheduler/v1/aggregates")).GetProperty("aggregates").EnumerateArray());
        await ProblemAssert.ExpectAsync(api.GetAsync("scheduler/v1/aggregates/ssd"), 404, "aggregate_not_found");
    }

    private static async Task<JsonElement> WaitForHostAsync(HttpClient api, string node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var hosts = (await api.GetFromJsonAsync<JsonElement>("scheduler/v1/hosts?limit=1000")).GetProperty("hosts").EnumerateArray();
            var host = hosts.FirstOrDefault(h => h.GetProperty("host").GetString() == node);
            if (host.ValueKind == JsonValueKind.Object)
                return host;
            Assert.True(DateTime.UtcNow < deadline, $"{node} never reported");
            await Task.Delay(500);
        }
    }
}
