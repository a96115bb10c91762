using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Api;

/// <summary>
/// A launch is checked whole before anything is created: every refusal has its own code and sentence, and leaves the
/// project with no instance and nothing reserved. Key pairs and server groups, which launches refer to, too.
/// </summary>
[Collection(SimulatedAllInOneCollection.Name)]
public sealed class LaunchValidationTests(SimulatedAllInOne fixture)
{
    [Fact]
    public async Task Each_bad_launch_is_refused_with_its_code_and_creates_nothing()
    {
        var (project, token) = await fixture.FreshProjectAsync("refused");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        using var otherOwner = new ComputeClient(fixture.Cloud, fixture.Tenants.Token("memberB"), fixture.Tenants.ProjectB);
        var othersPrivate = await otherOwner.UploadGuestAsync("b-private");
        var queued = await QueuedImageAsync(member);
        var needy = await member.UploadGuestAsync("needs-2-gib-ram");
        (await member.Images.PatchAsJsonAsync($"images/v2/images/{needy}", new { minRamMb = 2048 })).EnsureSuccessStatusCode();
        var image = fixture.PublicImage;

        var cases = new (object Body, int Status, string Code)[]
        {
            (new { flavorId = "m1.tiny", imageId = image }, 400, "invalid_instance_name"),
            (new { name = "x", imageId = image }, 400, "flavor_required"),
            (new { name = "x", flavorId = "m1.tiny" }, 400, "image_required"),
            (new { name = "x", flavorId = "no-such-flavor", imageId = image }, 400, "flavor_not_found"),
            (new { name = "x", flavorId = "m1.tiny", imageId = Guid.NewGuid() }, 400, "image_not_found"),
            (new { name = "x", flavorId = "m1.tiny", imageId = othersPrivate }, 400, "image_not_found"),
            (new { name = "x", flavorId = "m1.tiny", imageId = queued }, 400, "image_not_active"),
            (new { name = "x", flavorId = "m1.tiny", imageId = needy }, 400, "flavor_ram_too_small"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, keyName = "nope" }, 400, "key_pair_not_found"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, serverGroupId = Guid.NewGuid() }, 400, "server_group_not_found"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, userData = "not base64!" }, 400, "invalid_user_data"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, userData = Convert.ToBase64String(new byte[64 * 1024 + 1]) }, 400, "invalid_user_data"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, minCount = 3, maxCount = 2 }, 400, "invalid_count"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, maxCount = 101 }, 400, "invalid_count"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, tags = new Dictionary<string, string> { ["aws:reserved"] = "x" } }, 400, "invalid_tags"),
            (new { name = "x", flavorId = "m1.tiny", imageId = image, clientToken = new string('t', 65) }, 400, "invalid_client_token"),
        };
        foreach (var (body, status, code) in cases)
            await ProblemAssert.ExpectAsync(member.LaunchAsync(body), status, code);

        var listed = await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/instances?status=building");
        Assert.Equal(0, listed.GetProperty("instances").GetArrayLength());
        Assert.Equal(0, (await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/instances")).GetProperty("instances").GetArrayLength());
        var quota = await member.QuotaAsync();
        Assert.Equal(0, ComputeClient.Line(quota, "instances", "inUse") + ComputeClient.Line(quota, "instances", "reserved"));

        // The accepted launch says what it made: names, tags, metadata, key, user data kept, and actions refused while building.
        using var key = await member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "mine" });
        Assert.Equal(HttpStatusCode.Created, key.StatusCode);
        using var launched = await member.LaunchAsync(new
        {
            name = "web", flavorId = "m1.tiny", imageId = image, keyName = "mine", minCount = 2, maxCount = 2,
            tags = new Dictionary<string, string> { ["Name"] = "web", ["tier"] = "front" }, metadata = new Dictionary<string, string> { ["role"] = "www" },
            userData = Convert.ToBase64String("#!/bin/sh\necho hi\n"u8.ToArray()),
        });
        Assert.Equal(HttpStatusCode.Accepted, launched.StatusCode);
        var result = await launched.Content.ReadFromJsonAsync<JsonElement>();
        var instances = result.GetProperty("instances").EnumerateArray().ToList();
        Assert.Equal(["web-1", "web-2"], instances.Select(i => i.GetProperty("name").GetString()).ToList());
        Assert.All(instances, i =>
        {
            Assert.Equal("building", i.GetProperty("status").GetString());
            Assert.Equal("scheduling", i.GetProperty("task").GetString());
            Assert.Equal("mine", i.GetProperty("keyName").GetString());
            Assert.Equal("front", i.GetProperty("tags").GetProperty("tier").GetString());
            Assert.Equal("www", i.GetProperty("metadata").GetProperty("role").GetString());
            Assert.EndsWith("Z", i.GetProperty("createdAt").GetString());
        });
        var tagged = await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/instances?tag=tier=front");
        Assert.Equal(2, tagged.GetProperty("instances").GetArrayLength());
        var first = instances[0].GetProperty("id").GetGuid();
        var active = await member.WaitForStatusAsync(first, "active");
        await ProblemAssert.ExpectAsync(member.Http.PostAsync($"compute/v1/instances/{first}/actions/unpause", null), 409, "invalid_state");
        await ProblemAssert.ExpectAsync(member.Http.PostAsync($"compute/v1/instances/{first}/actions/resume", null), 409, "invalid_state");
        await ProblemAssert.ExpectAsync(member.Http.PostAsync($"compute/v1/instances/{first}/actions/explode", null), 400, "unknown_action");
        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync($"compute/v1/instances/{first}/actions/reboot", new { type = "gentle" }), 400, "invalid_reboot_type");
        Assert.Equal("active", active.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Tags_change_by_merge_patch_user_data_is_shown_to_the_project_and_deleted_instances_are_listed_only_when_asked_for()
    {
        var (project, token) = await fixture.FreshProjectAsync("tags");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        var userData = Convert.ToBase64String("#!/bin/sh\necho hi\n"u8.ToArray());
        var id = (await member.LaunchOkAsync(new { name = "t", flavorId = "m1.tiny", imageId = fixture.PublicImage, userData,
            tags = new Dictionary<string, string> { ["Name"] = "t", ["tier"] = "front" } }))[0];

        // A merge patch: a value sets, null removes, keys not named stay.
        using (var patched = await member.Http.PatchAsync($"compute/v1/instances/{id}/tags",
            JsonContent.Create(new Dictionary<string, string?> { ["tier"] = null, ["env"] = "dev" })))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            var tags = (await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tags");
            Assert.Equal(["Name", "env"], tags.EnumerateObject().Select(t => t.Name));
        }
        Assert.Equal("dev", (await member.ShowAsync(id)).GetProperty("tags").GetProperty("env").GetString());
        await ProblemAssert.ExpectAsync(member.Http.PatchAsync($"compute/v1/instances/{id}/tags",
            JsonContent.Create(new Dictionary<string, string?> { ["aws:x"] = "y" })), 400, "invalid_tags");
        await ProblemAssert.ExpectAsync(member.Http.PatchAsync($"compute/v1/instances/{id}/tags",
            JsonContent.Create(Enumerable.Range(0, 50).ToDictionary(i => $"k{i}", i => (string?)"v"))), 400, "invalid_tags");
        Assert.Equal(userData, (await member.Http.GetFromJsonAsync<JsonElement>($"compute/v1/instances/{id}/user-data")).GetProperty("userData").GetString());

        // Another project sees neither (404, as every other project's resource).
        using var other = new ComputeClient(fixture.Cloud, fixture.Tenants.Token("memberB"), fixture.Tenants.ProjectB);
        await ProblemAssert.ExpectAsync(other.Http.GetAsync($"compute/v1/instances/{id}/user-data"), 404, "instance_not_found");
        await ProblemAssert.ExpectAsync(other.Http.PatchAsync($"compute/v1/instances/{id}/tags",
            JsonContent.Create(new Dictionary<string, string?> { ["x"] = "y" })), 404, "instance_not_found");

        var before = DateTime.UtcNow.AddMinutes(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        await member.WaitForStatusAsync(id, "active");
        await member.DeleteAsync(id);
        await member.WaitForStatusAsync(id, "deleted");
        Assert.DoesNotContain(id, await IdsAsync("compute/v1/instances"));
        Assert.Contains(id, await IdsAsync($"compute/v1/instances?deletedSince={before}"));
        Assert.DoesNotContain(id, await IdsAsync($"compute/v1/instances?deletedSince={DateTime.UtcNow.AddMinutes(5):yyyy-MM-dd'T'HH:mm:ss'Z'}"));

        async Task<List<Guid>> IdsAsync(string path) => (await member.Http.GetFromJsonAsync<JsonElement>(path)).GetProperty("instances")
            .EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
    }

    [Fact]
    public async Task Key_pairs_are_validated_generated_once_unique_by_name_and_counted()
    {
        var (project, token) = await fixture.FreshProjectAsync("keys");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        await Admin.SetQuotaAsync(fixture.Cloud, fixture.Tenants.AdminToken, project, "key_pairs", 2, member);

        using var generated = await member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "made", type = "ed25519" });
        var made = await generated.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, generated.StatusCode);
        Assert.StartsWith("-----BEGIN OPENSSH PRIVATE KEY-----", made.GetProperty("privateKey").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("ssh-ed25519 ", made.GetProperty("publicKey").GetString(), StringComparison.Ordinal);
        var shown = await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/key-pairs/made");
        Assert.False(shown.TryGetProperty("privateKey", out _));   // shown once, kept nowhere
        Assert.Equal(made.GetProperty("fingerprint").GetString(), shown.GetProperty("fingerprint").GetString());

        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "made" }), 409, "key_pair_exists");
        // Names are unique per project only: across projects a cloud admin finds a key pair by its id.
        using (var admin = new ComputeClient(fixture.Cloud, fixture.Tenants.AdminToken, null))
        {
            await ProblemAssert.ExpectAsync(admin.Http.GetAsync("compute/v1/key-pairs/made"), 404, "key_pair_not_found");
            Assert.Equal("made", (await admin.Http.GetFromJsonAsync<JsonElement>($"compute/v1/key-pairs/{made.GetProperty("id").GetGuid()}")).GetProperty("name").GetString());
        }
        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "bad", publicKey = "ssh-rsa AAAAnot-a-key" }), 400, "invalid_public_key");
        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "bad", type = "dsa" }), 400, "unsupported_key_type");
        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = " padded" }), 400, "invalid_key_pair_name");
        var imported = made.GetProperty("publicKey").GetString();
        using (var second = await member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "imported", publicKey = imported }))
            Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var refused = await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/key-pairs", new { name = "third" }), 403, "quota_exceeded");
        Assert.Equal("key_pairs", refused.GetProperty("resource").GetString());
        using (var deleted = await member.Http.DeleteAsync("compute/v1/key-pairs/imported"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ProblemAssert.ExpectAsync(member.Http.GetAsync("compute/v1/key-pairs/imported"), 404, "key_pair_not_found");
    }

    [Fact]
    public async Task A_server_group_policy_reaches_the_scheduler_a_second_anti_affine_member_on_the_only_host_gets_no_valid_host()
    {
        var (project, token) = await fixture.FreshProjectAsync("groups");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        using var created = await member.Http.PostAsJsonAsync("compute/v1/server-groups", new { name = "apart", policy = "anti-affinity" });
        var group = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await ProblemAssert.ExpectAsync(member.Http.PostAsJsonAsync("compute/v1/server-groups", new { name = "x", policy = "together" }), 400, "invalid_server_group_policy");

        var first = (await member.LaunchOkAsync(new { name = "a", flavorId = "m1.tiny", imageId = fixture.PublicImage, serverGroupId = group })).Single();
        await member.WaitForStatusAsync(first, "active");
        var second = (await member.LaunchOkAsync(new { name = "b", flavorId = "m1.tiny", imageId = fixture.PublicImage, serverGroupId = group })).Single();
        var refused = await member.WaitForStatusAsync(second, "error");
        Assert.Equal("no_valid_host", refused.GetProperty("fault").GetProperty("code").GetString());
        Assert.Contains("anti-affinity", refused.GetProperty("fault").GetProperty("message").GetString(), StringComparison.Ordinal);
        var members = (await member.Http.GetFromJsonAsync<JsonElement>($"compute/v1/server-groups/{group}")).GetProperty("members").EnumerateArray().Select(m => m.GetGuid()).ToList();
        Assert.Equal([first, second], members);
    }

    /// <summary>An image record with no data yet.</summary>
    private static async Task<Guid> QueuedImageAsync(ComputeClient member)
    {
        using var created = await member.Images.PostAsJsonAsync("images/v2/images", new { name = "empty", diskFormat = "qcow2" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
