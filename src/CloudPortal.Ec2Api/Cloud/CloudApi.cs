using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CloudPortal.Ec2Api.Cloud;

/// <summary>A module's refusal, from its problem details: the stable code, the sentence, and the whole problem.</summary>
public sealed class ModuleProblemException(int status, string code, string message, JsonElement problem) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public JsonElement Problem { get; } = problem;
}

/// <summary>
/// The EC2 API's only way to the cloud: the modules' REST APIs, called with the key owner's token and the key's project,
/// exactly as the portal calls them for a signed-in user (ADR 0012). Every rule (404 outside the project, readers never
/// change anything, quota) is the module's; this layer translates.
/// </summary>
public sealed class CloudApi(IHttpClientFactory clients, IOptions<Ec2ApiOptions> options, IConfiguration configuration)
{
    public const string HttpClientName = "ec2-cloud";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Set by the endpoint once the request's signature is verified.</summary>
    public Ec2Caller? Caller { get; set; }

    public string? Token { get; set; }

    public Task<T> GetAsync<T>(string module, string path, CancellationToken cancellationToken) =>
        SendAsync<T>(HttpMethod.Get, module, path, null, cancellationToken);

    public async Task<T?> FindAsync<T>(string module, string path, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await GetAsync<T>(module, path, cancellationToken);
        }
        catch (ModuleProblemException problem) when (problem.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Every page of a list the module pages with <c>next</c> links.</summary>
    public async Task<List<TItem>> AllAsync<TPage, TItem>(string module, string path, Func<TPage, (IReadOnlyList<TItem> Items, string? Next)> read,
        CancellationToken cancellationToken)
    {
        var items = new List<TItem>();
        string? next = path;
        while (next is not null)
        {
            var page = await GetAsync<TPage>(module, next.TrimStart('/'), cancellationToken);
            var (pageItems, nextLink) = read(page);
            items.AddRange(pageItems);
            next = nextLink;
        }
        return items;
    }

    public async Task<T> SendAsync<T>(HttpMethod method, string module, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, module, path, body, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    public async Task SendAsync(HttpMethod method, string module, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendRawAsync(method, module, path, body, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string module, string path, object? body, CancellationToken cancellationToken)
    {
        var caller = Caller ?? throw new InvalidOperationException("the EC2 API calls the modules only for a verified request");
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl(module), path))
        {
            Content = body is null ? null : JsonContent.Create(body, options: Json),
        };
        if (method == HttpMethod.Patch && request.Content is not null)
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        request.Headers.Add(CloudClaims.ProjectHeader, caller.ProjectId.ToString());
        var client = clients.CreateClient(HttpClientName);
        client.Timeout = options.Value.ApiTimeout;
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException)
        {
            throw new Protocol.Ec2Exception("Unavailable", $"The {module} service cannot be reached; try again in a moment.");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Protocol.Ec2Exception("Unavailable", $"The {module} service did not answer in time; try again in a moment.");
        }
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
        {
            var status = (int)response.StatusCode;
            JsonElement problem;
            try
            {
                problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            }
            catch (JsonException)
            {
                problem = default;
            }
            string? Read(string name) => problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString() : null;
            throw new ModuleProblemException(status, Read("code") ?? $"http_{status}", Read("detail") ?? Read("title") ?? $"The {module} service answered {status}.", problem);
        }
    }

    private Uri BaseUrl(string module)
    {
        var url = options.Value.Apis.TryGetValue(module, out var configured) && !string.IsNullOrWhiteSpace(configured)
            ? configured
            : ListenUrls.Callable(configuration["urls"])[0];
        return new Uri(url.TrimEnd('/') + "/");
    }
}
