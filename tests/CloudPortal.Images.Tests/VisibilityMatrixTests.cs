using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>
/// The visibility matrix: 4 visibilities × owner / member (pending, accepted, rejected) / other project / admin ×
/// list, show, download, update, delete. Listing shows exactly what the caller may use; an image a caller
/// may not see is a 404; one it may see but not change is a 403.
/// </summary>
public sealed class VisibilityMatrixTests
{
    private static readonly string[] Visibilities = ["private", "shared", "community", "public"];
    private static readonly string[] Callers = ["owner", "pending", "accepted", "rejected", "other", "admin"];
    private static readonly string[] Operations = ["list", "show", "download", "update", "delete"];

    /// <summary>The expected status of each operation (list: 200 when the image is listed, 404 when it is not).</summary>
    private static int Expected(string visibility, string caller, string operation)
    {
        if (caller is "owner" or "admin")
            return operation == "delete" ? 204 : 200;
        var open = visibility is "community" or "public";
        var member = visibility == "shared" && caller is "pending" or "accepted" or "rejected";
        var sees = open || member;
        var uses = open || (member && caller == "accepted");
        return operation switch
        {
            "list" => uses ? 200 : 404,
            "show" => sees ? 200 : 404,
            "download" => uses ? 200 : sees ? 403 : 404,
            _ => sees ? 403 : 404,
        };
    }

    [Fact]
    public async Task Every_visibility_admits_exactly_the_callers_it_should_for_every_operation()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());
        var pending = await ProjectWithMemberAsync(cloud, tenants, "pending");
        var accepted = await ProjectWithMemberAsync(cloud, tenants, "accepted");
        var rejected = await ProjectWithMemberAsync(cloud, tenants, "rejected");
        var clients = new Dictionary<string, HttpClient>
        {
            ["owner"] = Api(cloud, tenants.Token("memberA"), tenants.ProjectA),
            ["pending"] = Api(cloud, pending.Token, pending.Project),
            ["accepted"] = Api(cloud, accepted.Token, accepted.Project),
            ["rejected"] = Api(cloud, rejected.Token, rejected.Project),
            ["other"] = Api(cloud, tenants.Token("memberB"), tenants.ProjectB),
            ["admin"] = Api(cloud, tenants.AdminToken),
        };
        var owner = clients["owner"];
        var failures = new List<string>();
        try
        {
            foreach (var visibility in Visibilities)
            {
                foreach (var caller in Callers)
                {
                    // A fresh image per cell, since the cell ends by deleting it.
                    var id = await CreateAsync(owner, new { name = $"{visibility}-{caller}", diskFormat = "qcow2", visibility = "shared" });
                    await UploadOkAsync(owner, id, qcow2);
                    await WaitForStatusAsync(owner, id, "active");
                    foreach (var (member, project) in new[] { ("pending", pending.Project), ("accepted", accepted.Project), ("rejected", rejected.Project) })
                    {
                        (await owner.PostAsJsonAsync($"images/v2/images/{id}/members", new { member = project })).EnsureSuccessStatusCode();
                        if (member != "pending")
                            (await clients[member].PutAsJsonAsync($"images/v2/images/{id}/members/{project}", new { status = member })).EnsureSuccessStatusCode();
                    }
                    // Memberships stay on record when the visibility changes, and must then grant nothing.
                    var setter = visibility == "public" ? clients["admin"] : owner;
                    (await setter.PatchAsJsonAsync($"images/v2/images/{id}", new { visibility })).EnsureSuccessStatusCode();

                    var client = clients[caller];
                    foreach (var operation in Operations)
                    {
                        var actual = await RunAsync(client, operation, id);
                        var expected = Expected(visibility, caller, operation);
                        if (actual != expected)
                            failures.Add($"{visibility} × {caller} × {operation}: {actual} (expected {expected})");
                    }
                    if (Expected(visibility, caller, "delete") != 204)
                        (await owner.DeleteAsync($"images/v2/images/{id}")).EnsureSuccessStatusCode();
                }
            }
        }
        finally
        {
            foreach (var client in clients.Values)
                client.Dispose();
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static async Task<int> RunAsync(HttpClient client, string operation, Guid id)
    {
        switch (operation)
        {
            case "list":
                var page = await client.GetFromJsonAsync<JsonElement>("images/v2/images?limit=1000");
                return page.GetProperty("images").EnumerateArray().Any(i => i.GetProperty("id").GetGuid() == id) ? 200 : 404;
            case "show":
                return await StatusAsync(client.GetAsync($"images/v2/images/{id}"));
            case "download":
                return await StatusAsync(client.GetAsync($"images/v2/images/{id}/file"));
            case "update":
                return await StatusAsync(client.PatchAsJsonAsync($"images/v2/images/{id}", new { minRamMb = 64 }));
            default:
                return await StatusAsync(client.DeleteAsync($"images/v2/images/{id}"));
        }
    }

    private static async Task<int> StatusAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        return (int)response.StatusCode;
    }

    [Fact]
    public async Task Only_admins_publish_members_decide_for_themselves_and_protected_images_survive_delete()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var owner = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var reader = Api(cloud, tenants.Token("readerA"), tenants.ProjectA);
        using var other = Api(cloud, tenants.Token("memberB"), tenants.ProjectB);
        using var admin = Api(cloud, tenants.AdminToken);

        await ExpectProblem(owner.PostAsJsonAsync("images/v2/images", new { name = "x", visibility = "public" }), 403, "public_image_requires_admin");
        var id = await CreateAsync(owner, new { name = "protected", diskFormat = "qcow2", @protected = true });
        await UploadOkAsync(owner, id, await File.ReadAllBytesAsync(await images.Qcow2Async()));
        await ExpectProblem(owner.PatchAsJsonAsync($"images/v2/images/{id}", new { visibility = "public" }), 403, "public_image_requires_admin");
        await ExpectProblem(owner.PostAsJsonAsync($"images/v2/images/{id}/members", new { member = tenants.ProjectB }), 409, "image_not_shared");
        await ExpectProblem(reader.PatchAsJsonAsync($"images/v2/images/{id}", new { name = "renamed" }), 403, "forbidden");
        await ExpectProblem(reader.PostAsJsonAsync("images/v2/images", new { name = "x" }), 403, "forbidden");

        (await owner.PatchAsJsonAsync($"images/v2/images/{id}", new { visibility = "shared" })).EnsureSuccessStatusCode();
        (await owner.PostAsJsonAsync($"images/v2/images/{id}/members", new { member = tenants.ProjectB })).EnsureSuccessStatusCode();
        await ExpectProblem(owner.PostAsJsonAsync($"images/v2/images/{id}/members", new { member = tenants.ProjectB }), 409, "member_exists");
        // The owner cannot accept on the member's behalf; the member can.
        await ExpectProblem(owner.PutAsJsonAsync($"images/v2/images/{id}/members/{tenants.ProjectB}", new { status = "accepted" }), 403, "not_the_member");
        await ExpectProblem(other.PutAsJsonAsync($"images/v2/images/{id}/members/{tenants.ProjectB}", new { status = "maybe" }), 400, "invalid_member_status");
        (await other.PutAsJsonAsync($"images/v2/images/{id}/members/{tenants.ProjectB}", new { status = "accepted" })).EnsureSuccessStatusCode();
        var members = await other.GetFromJsonAsync<JsonElement>($"images/v2/images/{id}/members");
        Assert.Equal("accepted", Assert.Single(members.GetProperty("members").EnumerateArray()).GetProperty("status").GetString());

        await ExpectProblem(owner.DeleteAsync($"images/v2/images/{id}"), 409, "image_protected");
        await ExpectProblem(admin.DeleteAsync($"images/v2/images/{id}"), 409, "image_protected");
        (await owner.PatchAsJsonAsync($"images/v2/images/{id}", new { @protected = false })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"images/v2/images/{id}")).StatusCode);
        await ExpectProblem(owner.GetAsync($"images/v2/images/{id}"), 404, "image_not_found");
    }
}
