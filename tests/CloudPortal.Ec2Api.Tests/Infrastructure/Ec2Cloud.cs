using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>An EC2 access key made through Identity's API, acting as <see cref="User"/> in <see cref="Project"/>.</summary>
public sealed record AccessKey(string Id, string Secret, string User, Guid Project);

/// <summary>
/// One all-in-one cloud per test class, ready for EC2 clients: projects A and B (<see cref="Tenants"/>), access keys for
/// A's member, A's reader and B's member, the TESTING.md guest uploaded into A (private), the admin's flavors for tests
/// and project A's quotas raised for them. <paramref name="realLibvirt"/>: the node runs the real KVM guests; otherwise
/// libvirt's simulated driver (<c>test:///default</c>), for tests about the API's decisions where no guest must boot.
/// </summary>
public abstract class Ec2Cloud(bool realLibvirt) : IAsyncLifetime
{
    /// <summary>The smallest guest: many of them fit the two-core test machine.</summary>
    public const string Nano = "ec2.nano";

    /// <summary>512 vCPUs: more than project A's cores quota (<see cref="CoresQuota"/>), so RunInstances hits VcpuLimitExceeded.</summary>
    public const string Wide = "ec2.wide";

    /// <summary>A root disk of 1 PiB: no host can take it (the Scheduler answers no valid host).</summary>
    public const string TooBig = "ec2.toobig";

    public const string Region = "cp-1";

    public const string Zone = "nova";

    public const int InstancesQuota = 40;

    public const int CoresQuota = 200;

    public TestCloud Cloud { get; private set; } = null!;

    public Tenants Tenants { get; private set; } = null!;

    /// <summary>Where the EC2 Query API answers: <c>{base}/ec2/</c>.</summary>
    public string Endpoint => Cloud.IdentityUrl.TrimEnd('/') + "/ec2/";

    public Uri EndpointUri => new(Endpoint);

    public AccessKey MemberA { get; private set; } = null!;

    public AccessKey ReaderA { get; private set; } = null!;

    public AccessKey MemberB { get; private set; } = null!;

    /// <summary>The guest image's name in project A (private), unique per cloud: DescribeImages finds it by this name.</summary>
    public string ImageName { get; private set; } = "";

    /// <summary>The Images API's id of <see cref="ImageName"/>.</summary>
    public Guid ImageGuid { get; private set; }

    /// <summary>The same guest, published (public) by the cloud admin from project A.</summary>
    public string PublicImageName { get; private set; } = "";

    /// <summary>A second private image of project A that a test may deregister.</summary>
    public string SpareImageName { get; private set; } = "";

    public bool RealLibvirt => realLibvirt;

    public Ec2Signer Signer => new(EndpointUri);

    /// <summary>Hand-signed calls as <paramref name="key"/>.</summary>
    public Ec2Query Query(AccessKey key) => new(Signer, key);

    /// <summary>The ami- id of project A's image named <paramref name="name"/> (DescribeImages, owner self, name filter).</summary>
    public async Task<string> ImageIdAsync(string name)
    {
        var answer = await Query(MemberA).OkAsync("DescribeImages", ("Owner.1", "self"), ("Filter.1.Name", "name"), ("Filter.1.Value.1", name));
        var ids = answer.Values("imageId");
        Assert.True(ids.Count == 1, $"one image named {name}: {answer}");
        Ec2Assert.ImageId(ids[0]);
        return ids[0];
    }

    public async ValueTask InitializeAsync()
    {
        var environment = realLibvirt
            ? new Dictionary<string, string?>
            {
                // The boot-sector guest halts and never answers the ACPI button: a clean stop waits this long, then pulls the plug.
                ["CloudPortal__Agent__StopTimeout"] = "00:00:03",
                ["CloudPortal__Agent__ReportInterval"] = "00:00:03",
                ["CloudPortal__Compute__ReaperInterval"] = "00:00:01",
            }
            : new Dictionary<string, string?>
            {
                ["CloudPortal__Agent__Libvirt"] = "test:///default",
                ["CloudPortal__Compute__ReaperInterval"] = "00:00:01",
            };
        Cloud = await TestCloud.StartAsync("all-in-one", environment);
        Tenants = await Tenants.CreateAsync(Cloud);
        await CloudAdmin.WaitForNodeAsync(Cloud, Tenants.AdminToken);
        // Dozens of one-vCPU guests on two cores (or on the simulated node's 16 CPUs and 3 GiB).
        await CloudAdmin.SetHostAsync(Cloud, Tenants.AdminToken, new { cpuAllocationRatio = 64.0, ramAllocationRatio = 4.0, diskAllocationRatio = 20.0 });
        await CloudAdmin.CreateFlavorAsync(Cloud, Tenants.AdminToken, new { name = Nano, vcpus = 1, ramMb = 64, diskGb = 1 });
        await CloudAdmin.CreateFlavorAsync(Cloud, Tenants.AdminToken, new { name = Wide, vcpus = 512, ramMb = 64, diskGb = 1 });
        await CloudAdmin.CreateFlavorAsync(Cloud, Tenants.AdminToken, new { name = TooBig, vcpus = 1, ramMb = 64, diskGb = 1024 * 1024 });
        await CloudAdmin.SetQuotaAsync(Cloud, Tenants, Tenants.ProjectA, Tenants.Token("memberA"), "instances", InstancesQuota);
        await CloudAdmin.SetQuotaAsync(Cloud, Tenants, Tenants.ProjectA, Tenants.Token("memberA"), "cores", CoresQuota);

        ImageName = $"ec2-guest-{Tenants.Suffix}";
        PublicImageName = $"ec2-public-{Tenants.Suffix}";
        SpareImageName = $"ec2-spare-{Tenants.Suffix}";
        using (var images = OidcClient.Api(Cloud.ImagesUrl, Tenants.Token("memberA"), Tenants.ProjectA))
        {
            images.Timeout = TimeSpan.FromMinutes(2);
            ImageGuid = await GuestImage.UploadAsync(images, ImageName);
            await GuestImage.UploadAsync(images, SpareImageName);
        }
        using (var admin = OidcClient.Api(Cloud.ImagesUrl, Tenants.AdminToken, Tenants.ProjectA))
        {
            admin.Timeout = TimeSpan.FromMinutes(2);
            var id = await GuestImage.UploadAsync(admin, PublicImageName);
            using var published = await admin.PatchAsJsonAsync($"images/v2/images/{id}", new { visibility = "public" });
            Assert.True(published.IsSuccessStatusCode, $"publish: {(int)published.StatusCode} {await published.Content.ReadAsStringAsync()}");
        }

        MemberA = await AccessKeys.CreateAsync(Cloud, Tenants.Token("memberA"), "memberA", Tenants.ProjectA);
        MemberB = await AccessKeys.CreateAsync(Cloud, Tenants.Token("memberB"), "memberB", Tenants.ProjectB);
        ReaderA = await AccessKeys.CreateForReaderAsync(Cloud, Tenants, "readerA", Tenants.ProjectA);
    }

    public async ValueTask DisposeAsync()
    {
        if (Cloud is not null)
            await Cloud.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The cloud whose node boots the real guests (KVM through the system libvirt).</summary>
public sealed class RealEc2Cloud() : Ec2Cloud(realLibvirt: true);

/// <summary>The cloud whose node is libvirt's simulated driver: the real API and launch path, no QEMU.</summary>
public sealed class SimulatedEc2Cloud() : Ec2Cloud(realLibvirt: false);

/// <summary>
/// What a cloud admin does before tenants use EC2: waits for the node, sets its ratios, creates flavors, raises quotas.
/// (Compute.Tests has fuller versions of the node and quota helpers in its own <c>Admin</c> class; these are the few lines
/// the EC2 tests need.)
/// </summary>
internal static class CloudAdmin
{
    public static Task WaitForNodeAsync(TestCloud cloud, string adminToken) =>
        Eventually.TrueAsync(async () =>
        {
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
            using var response = await scheduler.GetAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(cloud.Node)}");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("host").GetProperty("up").GetBoolean();
        }, $"node {cloud.Node} reported to the Scheduler", TimeSpan.FromSeconds(90));

    public static async Task SetHostAsync(TestCloud cloud, string adminToken, object change)
    {
        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
        using var response = await scheduler.PatchAsJsonAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(cloud.Node)}", change);
        Assert.True(response.IsSuccessStatusCode, $"PATCH host: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task CreateFlavorAsync(TestCloud cloud, string adminToken, object flavor)
    {
        using var compute = OidcClient.Api(cloud.ComputeUrl, adminToken);
        using var response = await compute.PostAsJsonAsync("compute/v1/flavors", flavor);
        Assert.True(response.IsSuccessStatusCode, $"create flavor: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Overrides a project's limit in Identity and waits until Compute enforces it (it learns limits over the bus); <paramref name="token"/> reads Compute's quota view in the project.</summary>
    public static async Task SetQuotaAsync(TestCloud cloud, Tenants tenants, Guid project, string token, string resource, long limit)
    {
        using (var identity = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken))
        using (var set = await identity.PutAsJsonAsync($"identity/v1/projects/{project}/quota/{resource}", new { limit }))
            Assert.True(set.IsSuccessStatusCode, $"set quota {resource}: {(int)set.StatusCode} {await set.Content.ReadAsStringAsync()}");
        using var compute = OidcClient.Api(cloud.ComputeUrl, token, project);
        await Eventually.TrueAsync(async () =>
        {
            using var response = await compute.GetAsync("compute/v1/quota");
            if (!response.IsSuccessStatusCode)
                return false;
            var quota = await response.Content.ReadFromJsonAsync<JsonElement>();
            return quota.GetProperty("resources").EnumerateArray()
                .Any(r => r.GetProperty("resource").GetString() == resource && r.GetProperty("limit").GetInt64() == limit);
        }, $"Compute enforcing {resource}={limit} for {project}");
    }
}

/// <summary>EC2 access keys through Identity's API (<c>POST /identity/v1/projects/{projectId}/access-keys</c>).</summary>
internal static class AccessKeys
{
    public static async Task<AccessKey> CreateAsync(TestCloud cloud, string token, string user, Guid project)
    {
        using var identity = OidcClient.Api(cloud.IdentityUrl, token);
        using var response = await identity.PostAsync($"identity/v1/projects/{project}/access-keys", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"create access key for {user}: {(int)response.StatusCode} {text}");
        var key = JsonDocument.Parse(text).RootElement;
        return new AccessKey(key.GetProperty("accessKeyId").GetString()!, key.GetProperty("secretAccessKey").GetString()!, user, project);
    }

    /// <summary>
    /// Readers cannot make keys, but a key acts with its owner's role at each request: the user is made a member, makes
    /// the key with a fresh token, and is a reader again before the key is ever used.
    /// </summary>
    public static async Task<AccessKey> CreateForReaderAsync(TestCloud cloud, Tenants tenants, string user, Guid project)
    {
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        await SetRoleAsync(admin, project, tenants.Id(user), "member");
        var token = (await cloud.Oidc.SignInAsync(tenants.UserName(user), Tenants.Password)).AccessToken;
        var key = await CreateAsync(cloud, token, user, project);
        await SetRoleAsync(admin, project, tenants.Id(user), "reader");
        return key;
    }

    private static async Task SetRoleAsync(HttpClient admin, Guid project, Guid user, string role)
    {
        using var response = await admin.PutAsJsonAsync($"identity/v1/projects/{project}/members/{user}", new { role });
        Assert.True(response.IsSuccessStatusCode, $"set role {role}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
