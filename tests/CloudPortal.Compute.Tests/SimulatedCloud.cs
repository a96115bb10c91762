using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests;

/// <summary>
/// One cloud per test class whose node runs libvirt's simulated driver (<c>test:///default</c>): for tests about
/// Compute's own decisions (quotas, idempotency, authorization), where no guest needs to boot. The launch path is the
/// real one; only the hypervisor under the agent is libvirt's fake. A public guest image is uploaded once.
/// </summary>
public abstract class SimulatedCloud(string mode) : IAsyncLifetime
{
    public TestCloud Cloud { get; private set; } = null!;

    public Tenants Tenants { get; private set; } = null!;

    public Guid PublicImage { get; private set; }

    public async ValueTask InitializeAsync()
    {
        Cloud = await TestCloud.StartAsync(mode, new Dictionary<string, string?>
        {
            ["CloudPortal__Agent__Libvirt"] = "test:///default",
            ["CloudPortal__Compute__ReaperInterval"] = "00:00:01",
            // The quota races send 100 launches at once. On SQLite each launch's write transaction waits its turn, and
            // under a loaded test host some image lookups then answered after the default 15 s: 503 images_unavailable
            // instead of the quota refusal those tests are about. The bound itself is tested in FaultTests.
            ["CloudPortal__Compute__RequestTimeout"] = "00:01:00",
        });
        Tenants = await Tenants.CreateAsync(Cloud);
        await Admin.WaitForNodeAsync(Cloud, Tenants.AdminToken, Cloud.Node);
        // libvirt's simulated node has 16 CPUs and 3 GiB: room for every instance the tests of a class launch.
        await Admin.SetHostAsync(Cloud, Tenants.AdminToken, Cloud.Node, new { cpuAllocationRatio = 100.0, ramAllocationRatio = 100.0, diskAllocationRatio = 100.0 });
        // Images belong to a project, public ones too: the cloud admin publishes one from project A.
        using var admin = new ComputeClient(Cloud, Tenants.AdminToken, Tenants.ProjectA);
        PublicImage = await admin.UploadGuestAsync("public-guest");
        using var images = ComputeClient.Client(Cloud.ImagesUrl, Tenants.AdminToken, null);
        using var published = await images.PatchAsJsonAsync($"images/v2/images/{PublicImage}", new { visibility = "public" });
        Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync());
    }

    /// <summary>A further project with one member, so each test starts from a project that has nothing.</summary>
    public async Task<(Guid Project, string Token)> FreshProjectAsync(string name, string role = "member")
    {
        using var identity = OidcClient.Api(Cloud.IdentityUrl, Tenants.AdminToken);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        using var created = await identity.PostAsJsonAsync("identity/v1/projects", new { name = $"{name}-{suffix}" });
        created.EnsureSuccessStatusCode();
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var user = await identity.PostAsJsonAsync("identity/v1/users", new { userName = $"{name}-{suffix}", password = Tenants.Password });
        user.EnsureSuccessStatusCode();
        var userId = (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await identity.PutAsJsonAsync($"identity/v1/projects/{project}/members/{userId}", new { role })).EnsureSuccessStatusCode();
        var token = (await Cloud.Oidc.SignInAsync($"{name}-{suffix}", Tenants.Password)).AccessToken;
        return (project, token);
    }

    public async ValueTask DisposeAsync()
    {
        if (Cloud is not null)
            await Cloud.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class SimulatedAllInOne() : SimulatedCloud("all-in-one");

public sealed class SimulatedDistributed() : SimulatedCloud("distributed");

/// <summary>The test classes that share one simulated all-in-one cloud (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class SimulatedAllInOneCollection : ICollectionFixture<SimulatedAllInOne>
{
    public const string Name = "simulated all-in-one";
}
