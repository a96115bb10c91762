using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>Calls the Images API the way a client does.</summary>
internal static class ImagesHelpers
{
    public static HttpClient Api(TestCloud cloud, string? token, Guid? project = null)
    {
        var http = OidcClient.Api(cloud.ImagesUrl, token, project);
        http.Timeout = TimeSpan.FromMinutes(2);
        return http;
    }

    public static async Task<Guid> CreateAsync(HttpClient api, object body)
    {
        using var response = await api.PostAsJsonAsync("images/v2/images", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"create: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public static Task<HttpResponseMessage> UploadAsync(HttpClient api, Guid id, byte[] data)
    {
        var content = new ByteArrayContent(data);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return api.PutAsync($"images/v2/images/{id}/file", content);
    }

    public static async Task UploadOkAsync(HttpClient api, Guid id, byte[] data)
    {
        using var response = await UploadAsync(api, id, data);
        Assert.True(response.IsSuccessStatusCode, $"upload: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public static async Task<JsonElement> ShowAsync(HttpClient api, Guid id) =>
        await api.GetFromJsonAsync<JsonElement>($"images/v2/images/{id}");

    /// <summary>Polls the image until it reaches <paramref name="status"/> (fails on another final state or after 60 s).</summary>
    public static async Task<JsonElement> WaitForStatusAsync(HttpClient api, Guid id, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement image;
        do
        {
            image = await ShowAsync(api, id);
            var now = image.GetProperty("status").GetString();
            if (now == status)
                return image;
            if (now is "killed" or "active" && now != status)
                Assert.Fail($"image {id} is {now}, expected {status}: {image}");
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"image {id} did not become {status} within 60 s: {image}");
        return image;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Sha512(byte[] data) => Convert.ToHexStringLower(SHA512.HashData(data));

    /// <summary>The shared error-contract check: status, problem+json, stable code, a title.</summary>
    public static Task ExpectProblem(Task<HttpResponseMessage> call, int status, string code) => ProblemAssert.ExpectAsync(call, status, code);

    /// <summary>Files the store holds for an image, staging files included (which must be none after a failed intake).</summary>
    public static IReadOnlyList<string> StoredFiles(TestCloud cloud, Guid id)
    {
        var root = Path.Combine(cloud.ImagesDataDir, "images");
        if (!Directory.Exists(root))
            return [];
        var name = id.ToString("N");
        return Directory.EnumerateFiles(Path.Combine(root, "store"), "*", SearchOption.AllDirectories).Where(f => Path.GetFileName(f).StartsWith(name, StringComparison.Ordinal))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "staging"))).ToList();
    }

    /// <summary>Sets a project's limit in Identity and waits until the Images module has the event.</summary>
    public static async Task SetQuotaAsync(TestCloud cloud, Tenants tenants, Guid project, string resource, long limit, string readerToken)
    {
        using var identity = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        (await identity.PutAsJsonAsync($"identity/v1/projects/{project}/quota/{resource}", new { limit })).EnsureSuccessStatusCode();
        using var images = Api(cloud, readerToken, project);
        await WaitForLimitAsync(images, project, resource, limit);
    }

    /// <summary>The limit the Images module enforces for the project, as its usage API shows it.</summary>
    public static async Task<long> LimitAsync(HttpClient images, Guid project, string resource)
    {
        var usage = await images.GetFromJsonAsync<JsonElement>($"images/v2/projects/{project}/usage");
        return usage.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == resource).GetProperty("limit").GetInt64();
    }

    /// <summary>Polls the Images module's usage API until it enforces <paramref name="limit"/> for the project (30 s at most).</summary>
    public static async Task WaitForLimitAsync(HttpClient images, Guid project, string resource, long limit)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var now = await LimitAsync(images, project, resource);
            if (now == limit)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"the Images module did not enforce {resource}={limit} for project {project} within 30 s; it enforces {now}");
            await Task.Delay(200);
        }
    }

    /// <summary>A further project with one member user, for sharing tests.</summary>
    public static async Task<(Guid Project, string Token)> ProjectWithMemberAsync(TestCloud cloud, Tenants tenants, string name)
    {
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        using var created = await admin.PostAsJsonAsync("identity/v1/projects", new { name = $"{name}-{suffix}" });
        created.EnsureSuccessStatusCode();
        var project = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var user = await admin.PostAsJsonAsync("identity/v1/users", new { userName = $"{name}-{suffix}", password = Tenants.Password });
        user.EnsureSuccessStatusCode();
        var userId = (await user.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        (await admin.PutAsJsonAsync($"identity/v1/projects/{project}/members/{userId}", new { role = "member" })).EnsureSuccessStatusCode();
        var token = (await cloud.Oidc.SignInAsync($"{name}-{suffix}", Tenants.Password)).AccessToken;
        return (project, token);
    }
}
