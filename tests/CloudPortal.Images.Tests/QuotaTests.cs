using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>Image quotas, with limits from Identity's events and usage counted under a per-project lock.</summary>
public sealed class QuotaTests
{
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Twenty_concurrent_uploads_against_an_image_quota_of_five_admit_exactly_five(string mode)
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());

        // Twenty records under the default limit, then the limit drops to five: data for only five gets in.
        var ids = new List<Guid>();
        for (var i = 0; i < 20; i++)
            ids.Add(await CreateAsync(member, new { name = $"quota-{i}", diskFormat = "qcow2" }));
        await SetQuotaAsync(cloud, tenants, tenants.ProjectA, "images", 5, tenants.Token("readerA"));

        var results = await Task.WhenAll(ids.Select(async id =>
        {
            using var response = await UploadAsync(member, id, qcow2);
            var body = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.IsSuccessStatusCode ? "" : JsonDocument.Parse(body).RootElement.GetProperty("code").GetString());
        }));
        Assert.Equal(5, results.Count(r => r.Item1 == 204));
        Assert.Equal(15, results.Count(r => r.Item1 == 409 && r.Item2 == "image_quota_exceeded"));
        var active = 0;
        foreach (var id in ids)
        {
            var status = (await ShowAsync(member, id)).GetProperty("status").GetString();
            Assert.True(status is "active" or "queued", status);
            active += status == "active" ? 1 : 0;
            if (status == "queued")
                Assert.Empty(StoredFiles(cloud, id));
        }
        Assert.Equal(5, active);

        // Creating records: in project B, twenty at once against a limit of five.
        using var other = Api(cloud, tenants.Token("memberB"), tenants.ProjectB);
        await SetQuotaAsync(cloud, tenants, tenants.ProjectB, "images", 5, tenants.Token("memberB"));
        var creates = await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
        {
            using var response = await other.PostAsJsonAsync("images/v2/images", new { name = $"b-{i}" });
            return (int)response.StatusCode;
        }));
        Assert.Equal(5, creates.Count(s => s == 201));
        Assert.Equal(15, creates.Count(s => s == 409));

        var usage = await member.GetFromJsonAsync<JsonElement>($"images/v2/projects/{tenants.ProjectA}/usage");
        var lines = usage.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("resource").GetString()!);
        Assert.Equal(20, lines["images"].GetProperty("inUse").GetInt64());
        Assert.Equal(5L * qcow2.Length, lines["image_bytes"].GetProperty("inUse").GetInt64());
    }

    [Fact]
    public async Task The_bytes_quota_blocks_data_that_would_exceed_it_and_reports_usage()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var raw = GuestImage.Raw();
        await SetQuotaAsync(cloud, tenants, tenants.ProjectA, "image_bytes", raw.Length + 1000, tenants.Token("readerA"));

        var first = await CreateAsync(member, new { name = "fits", diskFormat = "raw" });
        var second = await CreateAsync(member, new { name = "does-not-fit", diskFormat = "raw" });
        await UploadOkAsync(member, first, raw);
        await ExpectProblem(UploadAsync(member, second, raw), 409, "image_bytes_quota_exceeded");
        Assert.Equal("queued", (await ShowAsync(member, second)).GetProperty("status").GetString());

        // Deleting frees the bytes.
        await WaitForStatusAsync(member, first, "active");
        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"images/v2/images/{first}")).StatusCode);
        await UploadOkAsync(member, second, raw);
    }

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Identitys_quota_view_shows_image_usage_as_the_images_module_counts_it(string mode)
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var quota = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());

        var stored = await CreateAsync(member, new { name = "stored", diskFormat = "qcow2" });
        await CreateAsync(member, new { name = "empty", diskFormat = "qcow2" });
        await UploadOkAsync(member, stored, qcow2);
        await ExpectUsageAsync(quota, tenants.ProjectA, images: 2, bytes: qcow2.Length);

        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"images/v2/images/{stored}")).StatusCode);
        await ExpectUsageAsync(quota, tenants.ProjectA, images: 1, bytes: 0);

        // Project B has no image: its view says nothing is counted yet rather than inventing a zero.
        using var quotaB = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberB"));
        var viewB = await quotaB.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{tenants.ProjectB}/quota");
        var imagesB = viewB.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "images");
        Assert.Equal(JsonValueKind.Null, imagesB.GetProperty("inUse").ValueKind);
    }

    /// <summary>Polls Identity's quota view until the Images module's report arrives (it is sent right after a change).</summary>
    private static async Task ExpectUsageAsync(HttpClient identity, Guid project, long images, long bytes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await identity.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{project}/quota");
            var lines = view.GetProperty("resources").EnumerateArray().ToDictionary(r => r.GetProperty("resource").GetString()!);
            long? InUse(string resource) => lines[resource].GetProperty("inUse") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : null;
            if (InUse("images") == images && InUse("image_bytes") == bytes)
            {
                Assert.Equal(JsonValueKind.String, lines["images"].GetProperty("usageCountedAt").ValueKind);
                Assert.Equal(JsonValueKind.Null, lines["instances"].GetProperty("inUse").ValueKind);   // Compute has not reported
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the quota view did not show images={images}, image_bytes={bytes} within 30 s: {view}");
            await Task.Delay(200);
        }
    }
}
