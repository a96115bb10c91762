using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Common;

/// <summary>
/// An all-in-one cloud as the test fixtures start it (the built <c>cloudportal</c> binary, SQLite and the in-memory bus
/// in a temporary data directory) whose agent runs libvirt's simulated driver (<c>test:///default</c>: no real guests,
/// so a hundred instances fit a small machine), made ready for a benchmark of many instances: the tenants of
/// <see cref="Tenants"/> (project A with memberA), project A's quota raised to <c>instances</c> instances, the guest image
/// uploaded by memberA, a flavor <see cref="Flavor"/> (1 vCPU, 16 MB, 1 GB) and allocation ratios on the node that fit
/// them all (the simulated node has 16 CPUs and 3 GiB). Returns once Compute enforces the raised limits.
/// </summary>
public sealed class SimulatedBenchCloud : IAsyncDisposable
{
    public const string Flavor = "bench.nano";

    private SimulatedBenchCloud(TestCloud cloud, Tenants tenants, Guid imageId)
    {
        Cloud = cloud;
        Tenants = tenants;
        ImageId = imageId;
    }

    public TestCloud Cloud { get; }

    public Tenants Tenants { get; }

    /// <summary>The guest image, active, owned by project A.</summary>
    public Guid ImageId { get; }

    /// <summary>Starts the cloud (its processes also get <paramref name="environment"/>) and prepares it for <paramref name="instances"/> instances in project A.</summary>
    public static async Task<SimulatedBenchCloud> StartAsync(int instances, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var settings = new Dictionary<string, string?> { ["CloudPortal__Agent__Libvirt"] = "test:///default" };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
            settings[key] = value;
        var cloud = await TestCloud.StartAsync("all-in-one", settings);
        try
        {
            var tenants = await Tenants.CreateAsync(cloud);
            using (var identity = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken))
            {
                foreach (var (resource, limit) in new[] { ("instances", instances), ("cores", instances), ("ram_mb", instances * 16) })
                    (await identity.PutAsJsonAsync($"identity/v1/projects/{tenants.ProjectA}/quota/{resource}", new { limit })).EnsureSuccessStatusCode();
            }
            Guid imageId;
            using (var images = OidcClient.Api(cloud.ImagesUrl, tenants.Token("memberA"), tenants.ProjectA))
                imageId = await GuestImage.UploadAsync(images);

            // A flavor and ratios that let the instances fit the simulated node (its memory and CPUs are libvirt's test values).
            using (var computeAdmin = OidcClient.Api(cloud.ComputeUrl, tenants.AdminToken))
                (await computeAdmin.PostAsJsonAsync("compute/v1/flavors", new { name = Flavor, vcpus = 1, ramMb = 16, diskGb = 1 })).EnsureSuccessStatusCode();
            using (var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken))
                await Eventually.TrueAsync(async () => (await scheduler.PatchAsJsonAsync($"scheduler/v1/hosts/{cloud.Node}",
                    new { cpuAllocationRatio = 64.0, ramAllocationRatio = 16.0 })).IsSuccessStatusCode, "the node reported and its ratios raised");

            // The limits reach Compute as events: wait until it enforces them.
            using (var compute = OidcClient.Api(cloud.ComputeUrl, tenants.Token("memberA"), tenants.ProjectA))
                await Eventually.TrueAsync(async () =>
                {
                    var quota = await compute.GetFromJsonAsync<JsonElement>("compute/v1/quota");
                    return quota.GetProperty("resources").EnumerateArray()
                        .All(r => r.GetProperty("resource").GetString() is not ("instances" or "cores") || r.GetProperty("limit").GetInt64() >= instances);
                }, $"Compute enforcing project A's quota of {instances} instances");
            return new SimulatedBenchCloud(cloud, tenants, imageId);
        }
        catch
        {
            await cloud.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => Cloud.DisposeAsync();
}
