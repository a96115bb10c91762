using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Compute.Tests.Lifecycle;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.PowerSync;

/// <summary>
/// Changes made with virsh behind CloudPortal's back show through the API within seconds (libvirt events, node
/// reports): destroy → stopped, start → active, undefine → error; and a <c>cp-</c> domain no live instance owns is
/// reaped after the (shortened) grace period — each seen through the API.
/// </summary>
public sealed class OutOfBandTests
{
    [Fact]
    public async Task Virsh_destroy_start_and_undefine_are_seen_and_a_stray_domain_is_reaped_after_its_grace()
    {
        var environment = new Dictionary<string, string?>(LifecycleSettings.FastAgent)
        {
            ["CloudPortal__Compute__StrayDomainGrace"] = "00:00:05",
        };
        await using var cloud = await TestCloud.StartAsync("all-in-one", environment);
        var tenants = await Tenants.CreateAsync(cloud);
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, cloud.Node);
        using var member = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var admin = new ComputeClient(cloud, tenants.AdminToken, null);
        var image = await member.UploadGuestAsync();
        var id = await member.LaunchOneAsync(image, name: "behind-the-back");
        await member.WaitForStatusAsync(id, "active");
        var domain = $"cp-{id}";

        await Virsh.OkAsync("destroy", domain);
        var stopped = await member.WaitForStatusAsync(id, "stopped", TimeSpan.FromSeconds(30));
        Assert.Equal("shutdown", stopped.GetProperty("powerState").GetString());
        var synced = (await member.Http.GetFromJsonAsync<JsonElement>($"compute/v1/instances/{id}/actions")).GetProperty("actions")[0];
        Assert.Equal("stop", synced.GetProperty("action").GetString());
        Assert.Equal("cloudportal", synced.GetProperty("userName").GetString());
        Assert.Contains("not asked through CloudPortal", synced.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await Virsh.OkAsync("start", domain);
        await member.WaitForStatusAsync(id, "active", TimeSpan.FromSeconds(30));

        await Virsh.OkAsync("destroy", domain);
        await Virsh.OkAsync("undefine", domain);
        var vanished = await member.WaitForStatusAsync(id, "error", TimeSpan.FromSeconds(30));
        Assert.Equal("domain_vanished", vanished.GetProperty("fault").GetProperty("code").GetString());
        Assert.Equal("no_state", vanished.GetProperty("powerState").GetString());
        await member.DeleteAsync(id);
        await member.WaitForStatusAsync(id, "deleted");

        // A domain made the way an agent makes one, for this node, that no instance of Compute owns.
        var stray = Guid.NewGuid();
        var xml = Path.Combine(cloud.Deployment.NewDirectory(), "stray.xml");
        var metadata = new InstanceMetadata(stray, tenants.ProjectA, cloud.Node, new FlavorSpec("m1.tiny", 1, 64, 1), image, new string('0', 64), DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(xml, DomainXml.Build(new DomainDefinition("qemu", metadata, "/nonexistent/stray.qcow2", "/nonexistent/stray.log", "127.0.0.1", null)));
        await Virsh.OkAsync("define", xml);
        JsonElement seen = default;
        await Eventually.TrueAsync(async () =>
        {
            var list = (await admin.Http.GetFromJsonAsync<JsonElement>("compute/v1/stray-domains")).GetProperty("strayDomains");
            seen = list.EnumerateArray().FirstOrDefault(s => s.GetProperty("instanceId").GetGuid() == stray);
            return seen.ValueKind == JsonValueKind.Object && seen.GetProperty("reapedAt").ValueKind == JsonValueKind.String;
        }, "the stray domain recorded and reaped", TimeSpan.FromSeconds(60), () => seen.ToString());
        Assert.Equal("no such instance in Compute", seen.GetProperty("reason").GetString());
        Assert.Equal($"cp-{stray}", seen.GetProperty("domain").GetString());
        await Eventually.TrueAsync(async () => !(await Virsh.DomainsAsync()).Contains($"cp-{stray}"), "the stray domain removed from libvirt", TimeSpan.FromSeconds(30));
        await ProblemAssert.ExpectAsync(member.Http.GetAsync("compute/v1/stray-domains"), 403, "forbidden");
    }
}
