using CloudPortal.ServiceDefaults.Configuration;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Configuration;

namespace CloudPortal.ComputeAgent.Storage;

/// <summary>
/// A bearer token for the Images module's download endpoint: OAuth client credentials of the
/// <c>cloudportal-service</c> client at <c>{CloudPortal:Identity:Authority}/identity/connect/token</c>. Used only when
/// both the authority and <c>CloudPortal:Identity:ServiceClientSecret</c> are configured, and only for URLs under
/// <c>/images/</c> (the Images module's routes): a token never goes to any other address.
/// </summary>
public sealed class ServiceTokenSource(IConfiguration configuration, IHttpClientFactory http, TimeProvider time) : IDisposable
{
    public const string ClientId = "cloudportal-service";
    public const string Scope = "cloudportal";
    public const string HttpClientName = "cloudportal-agent-identity";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _expires;

    private string? Authority => configuration["CloudPortal:Identity:Authority"];

    /// <summary>Configured, or (all-in-one) the secret Identity generated into the shared data directory.</summary>
    private string? Secret
    {
        get
        {
            if (configuration["CloudPortal:Identity:ServiceClientSecret"] is { Length: > 0 } configured)
                return configured;
            var file = Path.Combine(configuration.GetCloudPortalOptions().FullDataDir, "service-client-secret");
            return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        }
    }

    public bool AppliesTo(Uri url) =>
        !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(Secret)
        && url.AbsolutePath.StartsWith("/images/", StringComparison.Ordinal);

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A minute of margin: a download must not start with a token about to expire.
            if (_token is not null && time.GetUtcNow() < _expires - TimeSpan.FromMinutes(1))
                return _token;
            var endpoint = new Uri(Authority!.TrimEnd('/') + "/identity/connect/token");
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = ClientId,
                ["client_secret"] = Secret!,
                ["scope"] = Scope,
            });
            using var response = await http.CreateClient(HttpClientName).PostAsync(endpoint, form, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"the token endpoint {endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase} for client {ClientId}");
            var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(token?.AccessToken))
                throw new HttpRequestException($"the token endpoint {endpoint} returned no access_token");
            _token = token.AccessToken;
            _expires = time.GetUtcNow() + TimeSpan.FromSeconds(token.ExpiresIn is > 0 ? token.ExpiresIn.Value : 300);
            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);
}
