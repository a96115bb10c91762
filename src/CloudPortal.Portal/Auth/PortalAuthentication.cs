using System.Globalization;
using System.Security.Claims;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CloudPortal.Portal.Auth;

/// <summary>
/// Signing in to the portal: OpenID Connect authorization code + PKCE against Identity (the <c>cloudportal-portal</c>
/// client), then a cookie session. The cookie holds only a session key; the tokens stay on the server
/// (<see cref="SessionTicketStore"/>) and are refreshed shortly before they expire (<see cref="TokenRefresher"/>).
/// </summary>
public static class PortalAuthentication
{
    public const string CookieScheme = "portal";
    public const string OidcScheme = "portal-oidc";
    public const string Policy = "portal";
    public const string CloudAdminPolicy = "portal-cloud-admin";
    public const string ClientId = "cloudportal-portal";

    /// <summary>offline_access: a refresh token, so the session outlives the 15-minute access token.</summary>
    private static readonly string[] Scopes = ["openid", "profile", "offline_access", "cloudportal"];

    public static void AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        var authority = Authority(builder.Configuration, options);
        var http = authority.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
        var allowHttp = TransportSecurity.AllowsHttp(builder.Configuration);

        builder.Services.AddDistributedMemoryCache();
        builder.Services.AddSingleton<SessionTicketStore>();
        builder.Services.AddSingleton<TokenRefresher>();
        builder.Services.AddSingleton<SessionRevocations>();
        builder.Services.AddOptions<CookieAuthenticationOptions>(CookieScheme)
            .Configure<SessionTicketStore, TokenRefresher>((cookie, store, refresher) =>
            {
                cookie.SessionStore = store;
                cookie.Events.OnValidatePrincipal = refresher.ValidateAsync;
            });

        builder.Services.AddAuthentication()
            .AddCookie(CookieScheme, cookie =>
            {
                cookie.Cookie.Name = "CloudPortal.Session";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                // Served over HTTPS only (TransportSecurity): the session cookie is always Secure. Where the host allows
                // plain HTTP (loopback, --insecure-http behind a TLS proxy), it is Secure whenever the request came over HTTPS.
                cookie.Cookie.SecurePolicy = allowHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
                cookie.ExpireTimeSpan = options.SessionIdleTimeout;
                cookie.SlidingExpiration = true;
                cookie.ForwardChallenge = OidcScheme;
                cookie.AccessDeniedPath = "/forbidden";
            })
            .AddOpenIdConnect(OidcScheme, oidc =>
            {
                oidc.Authority = authority;
                oidc.RequireHttpsMetadata = !http;
                oidc.ClientId = ClientId;
                oidc.ResponseType = OpenIdConnectResponseType.Code;
                oidc.UsePkce = true;
                oidc.SignInScheme = CookieScheme;
                oidc.SignOutScheme = CookieScheme;
                oidc.CallbackPath = "/signin-oidc";
                oidc.SignedOutCallbackPath = "/signout-callback-oidc";
                oidc.SignedOutRedirectUri = "/";
                oidc.SaveTokens = true;
                oidc.MapInboundClaims = false;
                oidc.GetClaimsFromUserInfoEndpoint = false;
                oidc.Scope.Clear();
                foreach (var scope in Scopes)
                    oidc.Scope.Add(scope);
                oidc.TokenValidationParameters.NameClaimType = CloudClaims.Name;
                oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
                oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.Events.OnTokenValidated = context =>
                {
                    // Compared with Identity's revocations as this process heard them (SessionRevocations).
                    if (context.Properties is { } properties)
                        properties.Items[SessionRevocations.SignedInAt] = context.HttpContext.RequestServices
                            .GetRequiredService<SessionRevocations>().Now().ToString("o", CultureInfo.InvariantCulture);
                    // Roles travel in the access token only; it came straight from Identity's token endpoint.
                    if (context.TokenEndpointResponse?.AccessToken is { } accessToken && context.Principal?.Identity is ClaimsIdentity identity)
                        AddRoleClaims(identity, accessToken);
                    return Task.CompletedTask;
                };
                oidc.Events.OnRemoteFailure = context =>
                {
                    // Identity refused or the user cancelled: a page that says so, not an exception.
                    context.Response.Redirect("/signin-failed?reason=" + Uri.EscapeDataString(context.Failure?.Message ?? "sign-in failed"));
                    context.HandleResponse();
                    return Task.CompletedTask;
                };
            });

        builder.Services.AddHealthChecks().AddCheck<IdentityDiscoveryCheck>("portal-identity", tags: ["ready"]);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policy, p => p.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser())
            .AddPolicy(CloudAdminPolicy, p => p.AddAuthenticationSchemes(CookieScheme).RequireAuthenticatedUser().RequireClaim(CloudClaims.CloudAdmin, "true"));
    }

    /// <summary>The role claims of a fresh access token replace the session's (at sign-in and at every refresh).</summary>
    public static void AddRoleClaims(ClaimsIdentity identity, string accessToken)
    {
        foreach (var old in identity.FindAll(c => c.Type is CloudClaims.ProjectRole or CloudClaims.CloudAdmin).ToList())
            identity.RemoveClaim(old);
        var token = new JsonWebToken(accessToken);
        foreach (var claim in token.Claims.Where(c => c.Type is CloudClaims.ProjectRole or CloudClaims.CloudAdmin))
            identity.AddClaim(new Claim(claim.Type, claim.Value));
    }

    public static string Authority(IConfiguration configuration, PortalOptions options) =>
        (Set(options.Authority)
         ?? Set(configuration[$"{IdentityClientOptions.Section}:{nameof(IdentityClientOptions.Authority)}"])
         ?? ListenUrls.Callable(configuration["urls"])[0]).TrimEnd('/') + "/";

    private static string? Set(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
