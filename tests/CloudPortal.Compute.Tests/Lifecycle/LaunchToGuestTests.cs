using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Lifecycle;

/// <summary>
/// The path a user judges the product by, on real libvirt/KVM, all-in-one and distributed: a member of a fresh project
/// uploads the TESTING.md guest, launches it, sees it active, reads the guest's own line from the console, drives every
/// power action, opens the VNC console, deletes it — and afterwards libvirt has nothing of it, the Scheduler holds no
/// claim and the quota view counts nothing. All-in-one uploads the guest as raw, distributed as qcow2: the two
/// formats that back an instance's overlay as they are (raw is not converted), each proven on the whole path.
/// </summary>
public sealed class LaunchToGuestTests
{
    private static readonly Dictionary<string, string?> FastAgent = LifecycleSettings.FastAgent;

    private static readonly string[] InstanceResources = ["instances", "cores", "ram_mb"];

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_member_uploads_launches_reaches_drives_and_deletes_a_real_guest(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode, FastAgent);
        var tenants = await Tenants.CreateAsync(cloud);
        await Admin.WaitForNodeAsync(cloud, tenants.AdminToken, cloud.Node);
        var node = (await Admin.HostAsync(cloud, tenants.AdminToken, cloud.Node)).GetProperty("host");
        Assert.False(node.GetProperty("simulated").GetBoolean(), $"the node must run real libvirt/QEMU, not the simulated driver: {node}");
        using var member = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);

        var format = mode == "all-in-one" ? "raw" : "qcow2";
        var image = await member.UploadGuestAsync(diskFormat: format);
        var id = await member.LaunchOneAsync(image, name: "first-guest");
        var active = await member.WaitForStatusAsync(id, "active");
        Assert.Equal(format, await OverlayBackingFormatAsync($"cp-{id}"));
        Assert.Equal("running", active.GetProperty("powerState").GetString());
        Assert.Equal(JsonValueKind.Null, active.GetProperty("fault").ValueKind);
        Assert.Equal("m1.tiny", active.GetProperty("flavor").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, active.GetProperty("host").ValueKind);   // tenants do not see hosts
        Assert.Contains("running", await Virsh.StateAsync($"cp-{id}") ?? "no domain");
        await member.WaitForConsoleLineAsync(id);

        await member.ActAsync(id, "stop");
        Assert.Equal("shutdown", (await member.WaitForStatusAsync(id, "stopped")).GetProperty("powerState").GetString());
        Assert.Equal("shut off", await Virsh.StateAsync($"cp-{id}"));
        await member.ActAsync(id, "start");
        await member.WaitForStatusAsync(id, "active");
        await member.ActAsync(id, "reboot", new { type = "soft" });
        await member.WaitForStatusAsync(id, "active");
        await member.ActAsync(id, "reboot", new { type = "hard" });
        await member.WaitForStatusAsync(id, "active");
        await member.ActAsync(id, "pause");
        Assert.Equal("paused", (await member.WaitForStatusAsync(id, "paused")).GetProperty("powerState").GetString());
        Assert.Equal("paused", await Virsh.StateAsync($"cp-{id}"));
        await member.ActAsync(id, "unpause");
        await member.WaitForStatusAsync(id, "active");
        await member.ActAsync(id, "suspend");
        Assert.Equal("suspended", (await member.WaitForStatusAsync(id, "suspended")).GetProperty("powerState").GetString());
        await member.ActAsync(id, "resume");
        await member.WaitForStatusAsync(id, "active");
        await member.WaitForConsoleLineAsync(id);

        await VncConsoleSpeaksRfbOnceAsync(member, id);

        await member.DeleteAsync(id);
        await member.WaitForStatusAsync(id, "deleted");
        Assert.DoesNotContain($"cp-{id}", await Virsh.DomainsAsync());

        var actions = (await member.Http.GetFromJsonAsync<JsonElement>($"compute/v1/instances/{id}/actions")).GetProperty("actions").EnumerateArray().ToList();
        Assert.Equal(["delete", "resume", "suspend", "unpause", "pause", "reboot_hard", "reboot", "start", "stop", "create"],
            actions.Select(a => a.GetProperty("action").GetString()).ToList());
        Assert.All(actions, a => Assert.Equal("success", a.GetProperty("result").GetString()));
        Assert.All(actions, a => Assert.EndsWith("Z", a.GetProperty("startedAt").GetString()));

        // Nothing held anywhere: the Scheduler's claim, and the quota view once Compute has reported.
        await Eventually.TrueAsync(async () => (await Admin.AllocationsAsync(cloud, tenants.AdminToken)).Count == 0, "no allocation left");
        using var identity = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        await Eventually.TrueAsync(async () =>
        {
            var quota = await identity.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{tenants.ProjectA}/quota");
            return InstanceResources.All(r =>
                quota.GetProperty("resources").EnumerateArray().Single(l => l.GetProperty("resource").GetString() == r) is var line
                && line.GetProperty("inUse").ValueKind == JsonValueKind.Number && line.GetProperty("inUse").GetInt64() == 0
                && line.GetProperty("reserved").GetInt64() == 0);
        }, "the quota view showing 0 instances, cores and RAM in use");

        // Instance-hours were counted in every state the guest rested in.
        var usage = await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/usage");
        var project = usage.GetProperty("projects").EnumerateArray().Single();
        var statuses = project.GetProperty("byStatus").EnumerateArray().Select(s => s.GetProperty("status").GetString()).ToList();
        Assert.Equal(["active", "paused", "stopped", "suspended"], statuses);
        Assert.Equal("m1.tiny", project.GetProperty("byFlavor").EnumerateArray().Single().GetProperty("flavor").GetString());
        Assert.True(project.GetProperty("total").GetProperty("instanceHours").GetDouble() > 0);
    }

    /// <summary>The format libvirt reads for the backing file of the domain's root disk (its qcow2 overlay): the cached image as uploaded.</summary>
    private static async Task<string?> OverlayBackingFormatAsync(string domain)
    {
        var overlay = System.Xml.Linq.XDocument.Parse(await Virsh.OkAsync("dumpxml", domain)).Descendants("disk")
            .Where(d => (string?)d.Attribute("device") == "disk").Select(d => (string?)d.Element("source")?.Attribute("file")).First();
        Assert.NotNull(overlay);
        var volume = System.Xml.Linq.XDocument.Parse(await Virsh.OkAsync("vol-dumpxml", overlay));
        Assert.Equal("qcow2", (string?)volume.Root!.Element("target")?.Element("format")?.Attribute("type"));
        return (string?)volume.Root.Element("backingStore")?.Element("format")?.Attribute("type");
    }

    /// <summary>The ticket opens the instance's VNC server through Compute's proxy (QEMU greets with its RFB version) once only.</summary>
    private static async Task VncConsoleSpeaksRfbOnceAsync(ComputeClient member, Guid id)
    {
        using var response = await member.Http.PostAsync($"compute/v1/instances/{id}/console", null);
        var console = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, console.ToString());
        var url = new Uri(console.GetProperty("url").GetString()!);
        Assert.Equal("ws", url.Scheme);
        using (var socket = new ClientWebSocket())
        {
            socket.Options.AddSubProtocol("binary");
            await socket.ConnectAsync(url, TestContext.Current.CancellationToken);
            Assert.Equal("binary", socket.SubProtocol);
            var buffer = new byte[12];
            var received = 0;
            while (received < buffer.Length)
                received += (await socket.ReceiveAsync(buffer.AsMemory(received), TestContext.Current.CancellationToken)).Count;
            Assert.StartsWith("RFB 003.", Encoding.ASCII.GetString(buffer));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", TestContext.Current.CancellationToken);
        }
        using var again = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => again.ConnectAsync(url, TestContext.Current.CancellationToken));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);
    }
}
