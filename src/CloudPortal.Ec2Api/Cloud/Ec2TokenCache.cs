using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using CloudPortal.Contracts.Identity;
using CloudPortal.Ec2Api.Protocol;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Security;
using CloudPortal.ServiceDefaults.Security.SigV4;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Ec2Api.Cloud;

/// <summary>
/// ADR 0012: the access token the EC2 API calls the modules with, for the owner of a verified key. Identity mints it
/// in exchange for the request's signature (its token endpoint, the <c>cloudportal-ec2</c> client); it is kept per key
/// until shortly before it expires, and only while the key's user, project and role are the ones the signature check
/// of this very request answered, so a changed role takes effect at once.
/// </summary>
public sealed partial class Ec2TokenCache(IHttpClientFactory clients, IOptions<Ec2ApiOptions> options, IConfiguration configuration, TimeProvider time,
    ILogger<Ec2TokenCache> logger)
{
    public const string HttpClientName = "ec2-identity";

    private static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);

    private string? _secret;

    public async Task<string> TokenAsync(Ec2Caller caller, SigV4Request signature, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_tokens.TryGetValue(caller.AccessKeyId, out var cached) && cached.Caller == caller && cached.ExpiresAt - RenewBefore > now)
            return cached.Token;

        var form = new Dictionary<string, string>
        {
            ["grant_type"] = Ec2Tokens.GrantType,
            ["client_id"] = Ec2Tokens.ClientId,
            ["client_secret"] = Secret(),
            ["scope"] = "cloudportal",
            [Ec2Tokens.AccessKeyIdParameter] = signature.AccessKeyId,
            [Ec2Tokens.StringToSignParameter] = signature.StringToSign,
            [Ec2Tokens.SignatureParameter] = signature.Signature,
            [Ec2Tokens.ScopeParameter] = signature.Scope.ToString(),
        };
        if (signature.ExpiresIn is { } expires)
            form[Ec2Tokens.ExpiresInParameter] = ((int)expires.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var client = clients.CreateClient(HttpClientName);
        client.Timeout = options.Value.ApiTimeout;
        using var response = await client.PostAsync(new Uri(Authority(), "identity/connect/token"), new FormUrlEncodedContent(form), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // The bus check said yes a moment ago: a refusal now is a race with a revocation, or a misconfigured client.
            LogRefused(logger, caller.AccessKeyId, (int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            throw new Ec2Exception(SigV4ErrorCodes.AuthFailure, SigV4Error.AuthFailureMessage);
        }
        var token = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
            ?? throw new Ec2Exception("InternalError", "Identity answered no token.");
        _tokens[caller.AccessKeyId] = new Entry(caller, token.AccessToken, now + TimeSpan.FromSeconds(token.ExpiresIn));
        return token.AccessToken;
    }

    private Uri Authority() => new((Set(options.Value.Authority)
        ?? Set(configuration[$"{IdentityClientOptions.Section}:{nameof(IdentityClientOptions.Authority)}"])
        ?? ListenUrls.Callable(configuration["urls"])[0]).TrimEnd('/') + "/");

    /// <summary>Configured, else the one Identity generated into this process's data directory (all-in-one).</summary>
    private string Secret()
    {
        if (_secret is not null)
            return _secret;
        if (Set(options.Value.ClientSecret) is { } configured)
            return _secret = configured;
        var file = Path.Combine(configuration.GetCloudPortalOptions().FullDataDir, Ec2Tokens.SecretFileName);
        if (!File.Exists(file))
            throw new Ec2Exception("Unavailable", "The EC2 API is not configured to reach Identity yet (no CloudPortal:Ec2Api:ClientSecret); try again later.");
        return _secret = File.ReadAllText(file).Trim();
    }

    private static string? Set(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private sealed record Entry(Ec2Caller Caller, string Token, DateTimeOffset ExpiresAt);

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity refused a token for EC2 access key {AccessKeyId}: {Status} {Body}")]
    private static partial void LogRefused(ILogger logger, string accessKeyId, int status, string body);
}
