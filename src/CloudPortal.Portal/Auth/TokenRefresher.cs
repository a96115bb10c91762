using System.Globalization;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text.Json.Serialization;
using CloudPortal.Portal.Api;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Portal.Auth;

/// <summary>
/// Renews a session's access token with its refresh token shortly before it expires, on the request that notices.
/// When Identity refuses the refresh (the password changed, the user was disabled or deleted, the token revoked),
/// the session ends and the next page asks to sign in again. A revocation Identity announced
/// (<see cref="SessionRevocations"/>) ends the session at once, without waiting for the refresh.
/// </summary>
public sealed partial class TokenRefresher(
    IOptionsMonitor<OpenIdConnectOptions> oidcOptions, IHttpClientFactory httpClients, SessionRevocations revocations, TimeProvider time, ILogger<TokenRefresher> log)
{
    /// <summary>Refresh this long before expiry, so that a page's API calls never carry a token about to lapse.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(1);

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var properties = context.Properties;
        if (Guid.TryParse(context.Principal?.FindFirst(CloudClaims.Subject)?.Value, out var userId)
            && revocations.Ends(userId, DateTimeOffset.TryParse((properties.Items.TryGetValue(SessionRevocations.SignedInAt, out var signedIn) ? signedIn : null), CultureInfo.InvariantCulture,
                DateTimeStyles.RoundtripKind, out var signedInAt) ? signedInAt : null))
        {
            LogRevoked(log);
            await EndAsync(context);
            return;
        }
        if (!DateTimeOffset.TryParse(properties.GetTokenValue("expires_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt)
            || expiresAt - time.GetUtcNow() > Margin)
            return;

        var refreshed = properties.GetTokenValue("refresh_token") is { } refreshToken
            ? await RefreshAsync(refreshToken, context.HttpContext.RequestAborted)
            : null;
        if (refreshed?.AccessToken is null)
        {
            await EndAsync(context);
            return;
        }

        properties.UpdateTokenValue("access_token", refreshed.AccessToken);
        if (refreshed.RefreshToken is not null)
            properties.UpdateTokenValue("refresh_token", refreshed.RefreshToken);
        properties.UpdateTokenValue("expires_at", time.GetUtcNow().AddSeconds(refreshed.ExpiresIn).ToString("o", CultureInfo.InvariantCulture));
        if (context.Principal?.Identity is ClaimsIdentity identity)
            PortalAuthentication.AddRoleClaims(identity, refreshed.AccessToken);   // roles changed since sign-in show now
        context.ShouldRenew = true;
    }

    private static async Task EndAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(PortalAuthentication.CookieScheme);
    }

    private async Task<TokenResponse?> RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var oidc = oidcOptions.Get(PortalAuthentication.OidcScheme);
        try
        {
            var configuration = await oidc.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
            using var response = await httpClients.CreateClient(PortalApi.IdentityClient).PostAsync(configuration.TokenEndpoint, new FormUrlEncodedContent(
                new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = refreshToken,
                    ["client_id"] = PortalAuthentication.ClientId,
                }), cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogRefused(log, (int)response.StatusCode);
                return null;
            }
            return await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            LogUnreachable(log, ex.Message);
            return null;
        }
    }

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("refresh_token")] string? RefreshToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Identity refused a session's token refresh ({Status}); the session ends")]
    private static partial void LogRefused(ILogger logger, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Identity revoked a session's user (password, account or role changed); the session ends")]
    private static partial void LogRevoked(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity could not be reached to refresh a session's token: {Reason}; the session ends")]
    private static partial void LogUnreachable(ILogger logger, string reason);
}
