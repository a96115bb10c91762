using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests;

/// <summary>Calls Compute (and the Images and Scheduler APIs around it) the way a client does, as one user in one project.</summary>
internal sealed class ComputeClient(TestCloud cloud, string? token, Guid? project) : IDisposable
{
    private readonly HttpClient _compute = Client(cloud.ComputeUrl, token, project);
    private readonly HttpClient _images = Client(cloud.ImagesUrl, token, project);

    public HttpClient Http => _compute;

    /// <summary>The Images API, as the same user in the same project.</summary>
    public HttpClient Images => _images;

    public static HttpClient Client(string url, string? token, Guid? project)
    {
        var http = OidcClient.Api(url, token, project);
        http.Timeout = TimeSpan.FromMinutes(2);
        return http;
    }

    /// <summary>Uploads the TESTING.md guest as a qcow2 image of this project and waits until it is active.</summary>
    public Task<Guid> UploadGuestAsync(string name = "guest", string diskFormat = "qcow2") => GuestImage.UploadAsync(_images, name, diskFormat);

    public Task<HttpResponseMessage> LaunchAsync(object body) => _compute.PostAsJsonAsync("compute/v1/instances", body);

    /// <summary>Launches and expects 202; the instances of the reservation.</summary>
    public async Task<IReadOnlyList<Guid>> LaunchOkAsync(object body)
    {
        using var response = await LaunchAsync(body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"launch: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToList();
    }

    public async Task<Guid> LaunchOneAsync(Guid image, string flavor = "m1.tiny", string name = "vm") =>
        (await LaunchOkAsync(new { name, flavorId = flavor, imageId = image })).Single();

    public async Task<JsonElement> ShowAsync(Guid id)
    {
        using var response = await _compute.GetAsync($"compute/v1/instances/{id}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"show {id}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Waits until the instance rests in <paramref name="status"/> (no task); fails at once on an unexpected error.</summary>
    public async Task<JsonElement> WaitForStatusAsync(Guid id, string status, TimeSpan? timeout = null)
    {
        JsonElement last = default;
        await Eventually.TrueAsync(async () =>
        {
            last = await ShowAsync(id);
            var now = last.GetProperty("status").GetString();
            if (now == "error" && status != "error" && last.GetProperty("task").ValueKind == JsonValueKind.Null)
                Assert.Fail($"instance {id} went to error while waiting for {status}: {last}");
            return now == status && last.GetProperty("task").ValueKind == JsonValueKind.Null;
        }, $"instance {id} {status}", timeout ?? TimeSpan.FromSeconds(120), () => last.ToString());
        return last;
    }

    /// <summary>Asks for an action and expects 202.</summary>
    public async Task ActAsync(Guid id, string action, object? body = null)
    {
        using var response = body is null
            ? await _compute.PostAsync($"compute/v1/instances/{id}/actions/{action}", null)
            : await _compute.PostAsJsonAsync($"compute/v1/instances/{id}/actions/{action}", body);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{action} {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async Task DeleteAsync(Guid id)
    {
        using var response = await _compute.DeleteAsync($"compute/v1/instances/{id}");
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"delete {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Waits for the guest's own line in the serial console log (read through the API).</summary>
    public async Task<string> WaitForConsoleLineAsync(Guid id, string line = GuestImage.Message)
    {
        var output = "";
        await Eventually.TrueAsync(async () =>
        {
            using var response = await _compute.GetAsync($"compute/v1/instances/{id}/console-log?lines=50");
            if (!response.IsSuccessStatusCode)
                return false;
            output = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("output").GetString() ?? "";
            return output.Contains(line, StringComparison.Ordinal);
        }, $"'{line}' in the console log of {id}", TimeSpan.FromSeconds(90), () => output);
        return output;
    }

    public async Task<JsonElement> QuotaAsync()
    {
        using var response = await _compute.GetAsync("compute/v1/quota");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"quota: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static long Line(JsonElement quota, string resource, string field) =>
        quota.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == resource).GetProperty(field).GetInt64();

    public void Dispose()
    {
        _compute.Dispose();
        _images.Dispose();
    }
}

/// <summary>What cloud admins see: the Scheduler's hosts and allocations, limits in Identity.</summary>
internal static class Admin
{
    public static async Task<JsonElement> HostAsync(TestCloud cloud, string adminToken, string host)
    {
        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
        return await scheduler.GetFromJsonAsync<JsonElement>($"scheduler/v1/hosts/{Uri.EscapeDataString(host)}");
    }

    /// <summary>Every allocation the Scheduler holds on any host of this cloud.</summary>
    public static async Task<IReadOnlyList<JsonElement>> AllocationsAsync(TestCloud cloud, string adminToken)
    {
        var all = new List<JsonElement>();
        foreach (var node in cloud.Nodes)
        {
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
            using var response = await scheduler.GetAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(node)}");
            if (response.StatusCode == HttpStatusCode.NotFound)
                continue;
            var detail = await response.Content.ReadFromJsonAsync<JsonElement>();
            all.AddRange(detail.GetProperty("allocations").EnumerateArray().Select(a => a.Clone()));
        }
        return all;
    }

    /// <summary>Waits until the Scheduler knows the node (its agent has reported) and it is up.</summary>
    public static Task WaitForNodeAsync(TestCloud cloud, string adminToken, string node) =>
        Eventually.TrueAsync(async () =>
        {
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
            using var response = await scheduler.GetAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(node)}");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("host").GetProperty("up").GetBoolean();
        }, $"node {node} reported to the Scheduler");

    public static async Task SetHostAsync(TestCloud cloud, string adminToken, string node, object change)
    {
        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, adminToken);
        using var response = await scheduler.PatchAsJsonAsync($"scheduler/v1/hosts/{Uri.EscapeDataString(node)}", change);
        Assert.True(response.IsSuccessStatusCode, $"PATCH host {node}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Sets a project's limit in Identity and waits until Compute enforces it.</summary>
    public static async Task SetQuotaAsync(TestCloud cloud, string adminToken, Guid project, string resource, long limit, ComputeClient projectReader)
    {
        using var identity = OidcClient.Api(cloud.IdentityUrl, adminToken);
        using var set = await identity.PutAsJsonAsync($"identity/v1/projects/{project}/quota/{resource}", new { limit });
        Assert.True(set.IsSuccessStatusCode, $"set quota: {(int)set.StatusCode} {await set.Content.ReadAsStringAsync()}");
        await Eventually.TrueAsync(async () => ComputeClient.Line(await projectReader.QuotaAsync(), resource, "limit") == limit, $"Compute enforcing {resource}={limit}");
    }
}
