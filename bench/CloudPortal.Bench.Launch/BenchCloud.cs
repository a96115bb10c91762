using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Launch;

/// <summary>
/// A real all-in-one cloud as the test fixtures start it (the built <c>cloudportal</c> binary, SQLite and the in-memory bus
/// in a temporary data directory, its agent on real libvirt), made ready for the benchmark: a project with a member, the
/// guest image uploaded through <c>/images/v2</c>, a 1 vCPU / 64 MB / 1 GiB flavor, and CPU overcommit on the node so that
/// the highest concurrency level fits at once.
/// </summary>
internal sealed partial class BenchCloud : IAsyncDisposable
{
    public const string Flavor = "bench.tiny";

    private BenchCloud(TestCloud cloud, HttpClient member, Guid imageId)
    {
        Cloud = cloud;
        Member = member;
        ImageId = imageId;
    }

    public TestCloud Cloud { get; }

    /// <summary>Compute's API as the project's member (bearer token, <c>CloudPortal-Project</c> header).</summary>
    public HttpClient Member { get; }

    public Guid ImageId { get; }

    public string Node => Cloud.Node;

    /// <summary>Starts and prepares the cloud; <paramref name="created"/> learns its node as soon as it exists.</summary>
    public static async Task<BenchCloud> StartAsync(BenchOptions options, LibvirtLeftovers created, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, string?>
        {
            ["CloudPortal__Agent__Libvirt"] = options.Libvirt,
            // The production default: the test fixtures beat every second (for tests that wait on a node's state), which
            // would add a Scheduler write per second to what is measured.
            ["CloudPortal__Agent__HeartbeatInterval"] = "00:00:30",
            // A full run outlasts the default 15-minute access token of the member driving it.
            ["CloudPortal__Identity__AccessTokenLifetime"] = "04:00:00",
        };
        foreach (var (key, value) in options.CloudEnvironment)
            environment[key] = value;
        var cloud = await TestCloud.StartAsync("all-in-one", environment);
        created.AddNode(cloud.Node);
        try
        {
            var tenants = await Tenants.CreateAsync(cloud);
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken);
            await WaitForRealNodeAsync(scheduler, cloud.Node, cancellationToken);
            // One vCPU per guest on a machine with few cores: 16 vCPUs per core fit the highest level (10) even on one core.
            await OkAsync(await scheduler.PatchAsJsonAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(cloud.Node)}", new { cpuAllocationRatio = 16.0 }, cancellationToken),
                "raise the CPU allocation ratio");
            using (var admin = OidcClient.Api(cloud.ComputeUrl, tenants.AdminToken))
                await OkAsync(await admin.PostAsJsonAsync("compute/v1/flavors", new { name = Flavor, vcpus = 1, ramMb = 64, diskGb = 1 }, cancellationToken), $"create flavor {Flavor}");
            var member = OidcClient.Api(cloud.ComputeUrl, tenants.Token("memberA"), tenants.ProjectA);
            member.Timeout = TimeSpan.FromMinutes(2);
            using var images = OidcClient.Api(cloud.ImagesUrl, tenants.Token("memberA"), tenants.ProjectA);
            images.Timeout = TimeSpan.FromMinutes(2);
            return new BenchCloud(cloud, member, await UploadGuestAsync(images, cancellationToken));
        }
        catch
        {
            await cloud.DisposeAsync();
            throw;
        }
    }

    /// <summary>The agent's own account of each spawn, by instance (its log line "Spawned instance ... after N s", text or JSON).</summary>
    public Dictionary<Guid, double> AgentSpawnMilliseconds()
    {
        var spawns = new Dictionary<Guid, double>();
        foreach (Match match in SpawnedLine().Matches(Cloud.ComputeProcess.Output))
            spawns[Guid.Parse(match.Groups["id"].Value)] = double.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture) * 1000;
        return spawns;
    }

    [GeneratedRegex(@"Spawned instance (?<id>[0-9a-f-]{36}) as domain \S+ \([^)]*\): \w+ after (?<seconds>[0-9.]+) s")]
    private static partial Regex SpawnedLine();

    private static async Task WaitForRealNodeAsync(HttpClient scheduler, string node, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await scheduler.GetAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(node)}", cancellationToken);
            last = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.IsSuccessStatusCode && JsonDocument.Parse(last).RootElement.GetProperty("host") is var host && host.GetProperty("up").GetBoolean())
            {
                if (host.GetProperty("simulated").GetBoolean())
                    throw new InvalidOperationException($"node {node} runs the simulated hypervisor (libvirt unreachable?): a benchmark of it measures nothing real. {host}");
                return;
            }
            await Task.Delay(250, cancellationToken);
        }
        throw new TimeoutException($"node {node} did not report to the Scheduler within 60 s; last answer: {last}");
    }

    private static async Task<Guid> UploadGuestAsync(HttpClient images, CancellationToken cancellationToken)
    {
        using var created = await images.PostAsJsonAsync("images/v2/images", new { name = "bench-guest", diskFormat = "qcow2" }, cancellationToken);
        var id = JsonDocument.Parse(await OkAsync(created, "create the image")).RootElement.GetProperty("id").GetGuid();
        using var content = new ByteArrayContent(GuestImage.Qcow2());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        await OkAsync(await images.PutAsync($"images/v2/images/{id}/file", content, cancellationToken), "upload the guest");
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100, cancellationToken))
        {
            var image = await images.GetFromJsonAsync<JsonElement>($"images/v2/images/{id}", cancellationToken);
            if (image.GetProperty("status").GetString() == "active")
                return id;
        }
        throw new TimeoutException($"image {id} did not become active within 60 s");
    }

    /// <summary>The body of a successful response; throws with status and body otherwise (and disposes the response).</summary>
    public static async Task<string> OkAsync(HttpResponseMessage response, string what)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"{what}: {(int)response.StatusCode} {body}", null, response.StatusCode);
            return body;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Member.Dispose();
        await Cloud.DisposeAsync();
    }
}

