using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CloudPortal.Portal.Auth;

/// <summary>
/// Readiness: the portal is ready once it has read Identity's discovery document. Until then every sign-in would end
/// in an error (the sign-in handler cannot build the redirect), and a first read that failed under load is retried only
/// after a back-off; reading it here also means the first user never waits for it.
/// </summary>
internal sealed class IdentityDiscoveryCheck(IOptionsMonitor<OpenIdConnectOptions> oidc) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var options = oidc.Get(PortalAuthentication.OidcScheme);
        try
        {
            var configuration = await options.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
            return HealthCheckResult.Healthy($"signs in at {configuration.AuthorizationEndpoint}");
        }
        catch (InvalidOperationException ex)
        {
            return HealthCheckResult.Unhealthy($"cannot read Identity's discovery document from {options.Authority}: {ex.InnerException?.Message ?? ex.Message}");
        }
    }
}
