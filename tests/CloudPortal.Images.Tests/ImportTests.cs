using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>URL import as a background job: it works where an admin allows it and never connects where the rules refuse.</summary>
public sealed class ImportTests
{
    [Fact]
    public async Task An_import_from_an_allowed_local_server_arrives_inspected_with_its_hashes_and_progress()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        await using var server = await ImageHttpServer.StartAsync("127.0.0.1");
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());
        server.Serve("/images/boot.qcow2", qcow2);
        server.Redirect("/latest", "/images/boot.qcow2");
        using var admin = Api(cloud, tenants.AdminToken);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);

        // Loopback is refused until an admin allows the host; nothing connected meanwhile.
        var id = await CreateAsync(member, new { name = "imported", diskFormat = "qcow2" });
        await ExpectProblem(member.PostAsJsonAsync($"images/v2/images/{id}/import", new { url = server.BaseUrl + "/latest" }), 400, "import_address_refused");
        Assert.Equal(0, server.Accepted);
        await ExpectProblem(member.PutAsync("images/v2/import-allowed-hosts/127.0.0.1", null), 403, "forbidden");
        (await admin.PutAsync("images/v2/import-allowed-hosts/127.0.0.1", null)).EnsureSuccessStatusCode();
        Assert.Contains("127.0.0.1", (await admin.GetFromJsonAsync<JsonElement>("images/v2/import-allowed-hosts")).GetProperty("hosts").EnumerateArray().Select(h => h.GetString()));

        using (var started = await member.PostAsJsonAsync($"images/v2/images/{id}/import", new { url = server.BaseUrl + "/latest" }))
            Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        var image = await WaitForStatusAsync(member, id, "active");
        Assert.Equal(Sha256(qcow2), image.GetProperty("sha256").GetString());
        Assert.Equal(Sha512(qcow2), image.GetProperty("sha512").GetString());
        var import = image.GetProperty("import");
        Assert.Equal(qcow2.Length, import.GetProperty("bytes").GetInt64());
        Assert.Equal(qcow2.Length, import.GetProperty("totalBytes").GetInt64());
        Assert.Equal(1, import.GetProperty("attempts").GetInt32());
        Assert.Equal(qcow2, await member.GetByteArrayAsync($"images/v2/images/{id}/file"));

        // The same inspection as an upload: an imported overlay is killed with its reason.
        server.Serve("/overlay.qcow2", await File.ReadAllBytesAsync(await images.Qcow2WithBackingFileAsync()));
        var overlay = await CreateAsync(member, new { name = "overlay" });
        (await member.PostAsJsonAsync($"images/v2/images/{overlay}/import", new { url = server.BaseUrl + "/overlay.qcow2" })).EnsureSuccessStatusCode();
        var killed = await WaitForStatusAsync(member, overlay, "killed");
        Assert.Equal("qcow2_backing_file", killed.GetProperty("failure").GetProperty("code").GetString());

        // A server error is retried; the import succeeds on the second attempt.
        server.Serve("/flaky.qcow2", qcow2);
        server.FailFirst("/flaky.qcow2", 1);
        var flaky = await CreateAsync(member, new { name = "flaky" });
        (await member.PostAsJsonAsync($"images/v2/images/{flaky}/import", new { url = server.BaseUrl + "/flaky.qcow2" })).EnsureSuccessStatusCode();
        Assert.Equal(2, (await WaitForStatusAsync(member, flaky, "active")).GetProperty("import").GetProperty("attempts").GetInt32());

        // A missing file is a permanent failure, not retried.
        var missing = await CreateAsync(member, new { name = "missing" });
        (await member.PostAsJsonAsync($"images/v2/images/{missing}/import", new { url = server.BaseUrl + "/nothing-here" })).EnsureSuccessStatusCode();
        Assert.Equal("import_http_error", (await WaitForStatusAsync(member, missing, "killed")).GetProperty("failure").GetProperty("code").GetString());
    }

    [Fact]
    public async Task An_import_aimed_at_a_refused_address_is_stopped_before_any_connection_even_through_a_redirect()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        // 127.0.0.2 is loopback too, and not on the allow-list: the import must never connect to it.
        await using var target = await ImageHttpServer.StartAsync("127.0.0.2");
        target.Serve("/boot.qcow2", await File.ReadAllBytesAsync(await images.Qcow2Async()));
        await using var allowed = await ImageHttpServer.StartAsync("127.0.0.1");
        allowed.Redirect("/to-refused", target.BaseUrl + "/boot.qcow2");
        using var admin = Api(cloud, tenants.AdminToken);
        (await admin.PutAsync("images/v2/import-allowed-hosts/127.0.0.1", null)).EnsureSuccessStatusCode();
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);

        // Directly: refused when asked, the image stays queued.
        var direct = await CreateAsync(member, new { name = "direct" });
        await ExpectProblem(member.PostAsJsonAsync($"images/v2/images/{direct}/import", new { url = target.BaseUrl + "/boot.qcow2" }), 400, "import_address_refused");
        Assert.Equal("queued", (await ShowAsync(member, direct)).GetProperty("status").GetString());
        foreach (var url in new[] { "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://10.0.0.1/x", "file:///etc/passwd" })
        {
            using var response = await member.PostAsJsonAsync($"images/v2/images/{direct}/import", new { url });
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
            var code = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();
            Assert.True(code is "import_address_refused" or "invalid_import_url", $"{url}: {code}");
        }

        // Through a redirect from an allowed host: the hop is checked like the first URL, and the image is killed.
        var redirected = await CreateAsync(member, new { name = "redirected" });
        (await member.PostAsJsonAsync($"images/v2/images/{redirected}/import", new { url = allowed.BaseUrl + "/to-refused" })).EnsureSuccessStatusCode();
        var image = await WaitForStatusAsync(member, redirected, "killed");
        Assert.Equal("import_address_refused", image.GetProperty("failure").GetProperty("code").GetString());
        Assert.Equal(1, allowed.Accepted);
        Assert.Equal(0, target.Accepted);
        Assert.Empty(StoredFiles(cloud, redirected));
    }
}
