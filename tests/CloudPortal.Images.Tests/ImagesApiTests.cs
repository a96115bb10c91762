using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>The catalog's behaviour: bad input, filters and paging, state changes.</summary>
public sealed class ImagesApiTests
{
    private static readonly string[] Blank = [" "];
    private static readonly string[] EvenTags = ["even", "all"];
    private static readonly string[] AllTags = ["all"];

    [Fact]
    public async Task Bad_input_gets_a_problem_with_a_stable_code_and_creates_nothing()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var noProject = Api(cloud, tenants.Token("memberA"));
        using var anonymous = Api(cloud, null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("images/v2/images")).StatusCode);
        await ExpectProblem(noProject.GetAsync("images/v2/images"), 400, "project_required");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "" }), 400, "invalid_image_name");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = new string('x', 256) }), 400, "invalid_image_name");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", diskFormat = "vdi" }), 400, "unsupported_disk_format");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", containerFormat = "ovf" }), 400, "unsupported_container_format");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", visibility = "secret" }), 400, "invalid_visibility");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", visibility = "1" }), 400, "invalid_visibility");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", minRamMb = -1 }), 400, "invalid_min_requirement");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", tags = Blank }), 400, "invalid_tag");
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "x", properties = new Dictionary<string, string> { [""] = "v" } }), 400, "invalid_property");
        await ExpectProblem(member.GetAsync("images/v2/images?limit=0"), 400, "invalid_limit");
        await ExpectProblem(member.GetAsync($"images/v2/images?marker={Guid.NewGuid()}"), 400, "invalid_marker");
        await ExpectProblem(member.GetAsync("images/v2/images?status=sleeping"), 400, "invalid_status");
        await ExpectProblem(member.GetAsync("images/v2/images?sort_dir=sideways"), 400, "invalid_sort");
        await ExpectProblem(member.GetAsync($"images/v2/images/{Guid.NewGuid()}"), 404, "image_not_found");
        await ExpectProblem(member.PostAsJsonAsync($"images/v2/images/{Guid.NewGuid()}/import", new { url = "http://example.org/x" }), 404, "image_not_found");
        var page = await member.GetFromJsonAsync<JsonElement>("images/v2/images");
        Assert.Equal(0, page.GetProperty("images").GetArrayLength());

        var id = await CreateAsync(member, new { name = "ok" });
        await ExpectProblem(member.PostAsJsonAsync($"images/v2/images/{id}/import", new { url = "not a url" }), 400, "invalid_import_url");
        await ExpectProblem(member.PostAsync($"images/v2/images/{id}/actions/deactivate", null), 409, "invalid_image_state");
        await ExpectProblem(member.GetAsync($"images/v2/images/{id}/file"), 409, "image_not_active");
        await UploadOkAsync(member, id, GuestImage.Raw());
        await ExpectProblem(UploadAsync(member, id, GuestImage.Raw()), 409, "image_not_queued");
        await ExpectProblem(member.PatchAsJsonAsync($"images/v2/images/{id}", new { diskFormat = "qcow2" }), 409, "image_not_queued");
    }

    [Fact]
    public async Task Listing_filters_by_tag_name_and_state_and_pages_with_a_marker()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var ids = new List<Guid>();
        for (var i = 0; i < 7; i++)
            ids.Add(await CreateAsync(member, new { name = $"img-{i}", tags = i % 2 == 0 ? EvenTags : AllTags, properties = new Dictionary<string, string> { ["os"] = "debian" } }));

        var seen = new List<Guid>();
        string? next = "images/v2/images?limit=3&tag=all";
        while (next is not null)
        {
            var page = await member.GetFromJsonAsync<JsonElement>(next.TrimStart('/'));
            seen.AddRange(page.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
            next = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
        }
        Assert.Equal(Enumerable.Reverse(ids), seen);

        var even = await member.GetFromJsonAsync<JsonElement>("images/v2/images?tag=even&tag=all&sort_dir=asc");
        Assert.Equal(ids.Where((_, i) => i % 2 == 0), even.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
        var named = await member.GetFromJsonAsync<JsonElement>("images/v2/images?name=img-3");
        Assert.Equal(ids[3], Assert.Single(named.GetProperty("images").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Equal(7, (await member.GetFromJsonAsync<JsonElement>("images/v2/images?status=queued")).GetProperty("images").GetArrayLength());
        Assert.Equal(0, (await member.GetFromJsonAsync<JsonElement>("images/v2/images?status=active")).GetProperty("images").GetArrayLength());

        // Properties merge, null removes; tags can be set one at a time.
        using var patched = await member.PatchAsJsonAsync($"images/v2/images/{ids[0]}", new { properties = new Dictionary<string, string?> { ["os"] = null, ["arch"] = "x86_64" } });
        var image = await patched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("x86_64", image.GetProperty("properties").GetProperty("arch").GetString());
        Assert.False(image.GetProperty("properties").TryGetProperty("os", out _));
        Assert.Equal(HttpStatusCode.NoContent, (await member.PutAsync($"images/v2/images/{ids[0]}/tags/gold", null)).StatusCode);
        Assert.Contains("gold", (await ShowAsync(member, ids[0])).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task A_deactivated_image_cannot_be_downloaded_until_reactivated()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var admin = Api(cloud, tenants.AdminToken);
        var id = await CreateAsync(member, new { name = "deactivate-me", diskFormat = "raw" });
        await UploadOkAsync(member, id, GuestImage.Raw());
        await WaitForStatusAsync(member, id, "active");

        (await member.PostAsync($"images/v2/images/{id}/actions/deactivate", null)).EnsureSuccessStatusCode();
        Assert.Equal("deactivated", (await ShowAsync(member, id)).GetProperty("status").GetString());
        await ExpectProblem(member.GetAsync($"images/v2/images/{id}/file"), 403, "image_deactivated");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"images/v2/images/{id}/file")).StatusCode);
        (await member.PostAsync($"images/v2/images/{id}/actions/reactivate", null)).EnsureSuccessStatusCode();
        Assert.Equal(GuestImage.Raw(), await member.GetByteArrayAsync($"images/v2/images/{id}/file"));
    }
}
