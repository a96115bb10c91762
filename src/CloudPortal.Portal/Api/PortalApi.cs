using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Portal.Auth;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CloudPortal.Portal.Api;

/// <summary>A module's refusal, from its problem details: the stable code and the sentence the page shows.</summary>
public sealed class ApiException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Code { get; } = code;
}

/// <summary>
/// The portal's only way to the cloud: the modules' REST APIs, called with the signed-in user's access token and
/// the project the user acts in (<see cref="ProjectContext"/>). Nothing else is read, so the portal shows exactly
/// what the user may see through the API, all-in-one or distributed.
/// </summary>
public sealed class PortalApi(IHttpClientFactory clients, IHttpContextAccessor http, ProjectContext project, IOptions<PortalOptions> options, IConfiguration configuration)
{
    public const string IdentityClient = "portal-api";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public Task<T> GetAsync<T>(string module, string path, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Get, module, path, null, cancellationToken)!;

    /// <summary>GET that answers null for 404 (an id of another project, or gone), so a page can show its own 404.</summary>
    public async Task<T?> FindAsync<T>(string module, string path, CancellationToken cancellationToken = default) where T : class
    {
        try
        {
            return await GetAsync<T>(module, path, cancellationToken);
        }
        catch (ApiException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async Task<T> SendAsync<T>(HttpMethod method, string module, string path, object? body, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(method, module, path, body is null ? null : JsonContent.Create(body, options: Json), cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
    }

    public async Task SendAsync(HttpMethod method, string module, string path, object? body = null, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(method, module, path, body is null ? null : JsonContent.Create(body, options: Json), cancellationToken);
    }

    /// <summary>Sends and returns the successful response (the caller disposes it); a refusal becomes an <see cref="ApiException"/>.</summary>
    public async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string module, string path, HttpContent? content, CancellationToken cancellationToken,
        TimeSpan? timeout = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl(module), path)) { Content = content };
        var context = http.HttpContext ?? throw new InvalidOperationException("the portal calls the APIs only while serving a page");
        if (await context.GetTokenAsync(PortalAuthentication.CookieScheme, "access_token") is { } token)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (project.CurrentId is { } projectId)
            request.Headers.Add(CloudClaims.ProjectHeader, projectId.ToString());
        var client = clients.CreateClient(IdentityClient);
        client.Timeout = timeout ?? options.Value.ApiTimeout;
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
            return response;
        using (response)
            throw await RefusalAsync(response, module, cancellationToken);
    }

    private static async Task<ApiException> RefusalAsync(HttpResponseMessage response, string module, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var code = problem.TryGetProperty("code", out var c) ? c.GetString() : null;
            var detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var title = problem.TryGetProperty("title", out var t) ? t.GetString() : null;
            return new ApiException(status, code ?? $"http_{status}", detail ?? title ?? Sentence(response.StatusCode, module));
        }
        catch (JsonException)
        {
            return new ApiException(status, $"http_{status}", Sentence(response.StatusCode, module));
        }
    }

    private static string Sentence(HttpStatusCode status, string module) => status switch
    {
        HttpStatusCode.Unauthorized => "Your session has expired; sign in again.",
        HttpStatusCode.Forbidden => "Your role in this project does not allow that.",
        HttpStatusCode.NotFound => "It does not exist, or not in this project.",
        _ => $"The {module} service answered {(int)status}; try again in a moment.",
    };

    /// <summary>
    /// One of <paramref name="modules"/> per process that serves them (their configured API addresses, this process's own
    /// for the others): what a page that asks every process, such as the dead letters, calls.
    /// </summary>
    public IReadOnlyList<string> OnePerProcess(IEnumerable<string> modules) =>
        modules.GroupBy(BaseUrl).Select(g => g.First()).ToList();

    private Uri BaseUrl(string module)
    {
        var url = options.Value.Apis.TryGetValue(module, out var configured) && !string.IsNullOrWhiteSpace(configured)
            ? configured
            : ListenUrls.Callable(configuration["urls"])[0];
        return new Uri(url.TrimEnd('/') + "/");
    }
}
