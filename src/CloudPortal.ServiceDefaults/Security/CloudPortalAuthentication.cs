using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Validation.AspNetCore;

namespace CloudPortal.ServiceDefaults.Security;

/// <summary>Policy names every module uses.</summary>
public static class CloudPolicies
{
    public const string Reader = "reader";
    public const string Member = "member";
    public const string Admin = "admin";
    public const string CloudAdmin = "cloud-admin";
    public const string Service = "service";
    public const string CloudAdminOrService = "cloud-admin-or-service";

    /// <summary>Any signed-in user or service; handlers scope what it may see.</summary>
    public const string Authenticated = "authenticated";
}

public sealed class IdentityClientOptions
{
    public const string Section = "CloudPortal:Identity";

    /// <summary>
    /// URL of the Identity module (its issuer) for modules hosted without it, e.g.
    /// <c>http://identity:8080/</c>. Unused when Identity runs in the same process.
    /// </summary>
    public string? Authority { get; set; }
}

public static class CloudPortalAuthentication
{
    private const string LocalServerKey = "CloudPortal.Identity.LocalServer";

    /// <summary>Called by the Identity module: tokens can then be validated in-process, without HTTP.</summary>
    public static void MarkIdentityServerHosted(this IHostApplicationBuilder builder) => builder.Properties[LocalServerKey] = true;

    /// <summary>
    /// Bearer-token validation (JWTs issued by the Identity module) and CloudPortal's authorization
    /// policies. Safe to call from every module; the work is done once.
    /// </summary>
    public static IHostApplicationBuilder AddCloudPortalAuthentication(this IHostApplicationBuilder builder)
    {
        if (!builder.Properties.TryAdd(typeof(CloudPortalAuthentication), true))
            return builder;

        var local = builder.Properties.ContainsKey(LocalServerKey);
        var authority = builder.Configuration.GetSection(IdentityClientOptions.Section).Get<IdentityClientOptions>()?.Authority;
        if (!local && string.IsNullOrWhiteSpace(authority))
        {
            // A module used over the bus only needs no issuer; its HTTP endpoints refuse every token, saying why.
            builder.Services.AddAuthentication(UnconfiguredAuthenticationHandler.SchemeName)
                .AddScheme<AuthenticationSchemeOptions, UnconfiguredAuthenticationHandler>(UnconfiguredAuthenticationHandler.SchemeName, null);
            AddPolicies(builder);
            return builder;
        }

        builder.Services.AddOpenIddict().AddValidation(validation =>
        {
            if (local)
            {
                validation.UseLocalServer();
            }
            else
            {
                if (!Uri.TryCreate(authority, UriKind.Absolute, out var issuer))
                    throw new StartupException($"CloudPortal:Identity:Authority must be an absolute URL, not '{authority}'");
                validation.SetIssuer(issuer);
                validation.UseSystemNetHttp();
            }
            // Bearer tokens travel in the Authorization header only. Read from a form body, OpenIddict would consume the
            // body of every form POST (the EC2 Query API hashes it for its signature); in a query string, tokens leak into logs.
            validation.UseAspNetCore().DisableAccessTokenExtractionFromBodyForm().DisableAccessTokenExtractionFromQueryString();
        });

        builder.Services.AddAuthentication(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        builder.Services.AddSingleton<DisabledProjects>();
        builder.Services.AddHostedService<DisabledProjectsResync>();
        builder.AddPerProcessConsumer<ProjectStatusChangedConsumer>("project-status");
        AddPolicies(builder);
        return builder;
    }

    private static void AddPolicies(IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IAuthorizationHandler, ProjectRoleHandler>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProjectResourceResultHandler>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(CloudPolicies.Authenticated, p => p.RequireAuthenticatedUser())
            .AddPolicy(CloudPolicies.Reader, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Reader)))
            .AddPolicy(CloudPolicies.Member, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Member)))
            .AddPolicy(CloudPolicies.Admin, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(ProjectRole.Admin)))
            .AddPolicy(CloudPolicies.CloudAdmin, p => p.RequireAuthenticatedUser().RequireClaim(CloudClaims.CloudAdmin, "true"))
            .AddPolicy(CloudPolicies.Service, p => p.RequireAuthenticatedUser().RequireClaim(CloudClaims.Service, "true"))
            .AddPolicy(CloudPolicies.CloudAdminOrService, p => p.RequireAuthenticatedUser().RequireAssertion(c =>
                c.User.HasClaim(CloudClaims.CloudAdmin, "true") || c.User.HasClaim(CloudClaims.Service, "true")));
    }

    /// <summary>
    /// A module's API: a route group under its prefix that only authenticated callers reach, described by the
    /// OpenAPI document named after the module (<c>/openapi/{module}.json</c>).
    /// </summary>
    public static RouteGroupBuilder MapModuleApi(this IEndpointRouteBuilder app, string module, string prefix) =>
        app.MapGroup(prefix).RequireAuthorization(CloudPolicies.Authenticated).DescribeAs(app, module, prefix);
}

/// <summary>Stands in when no Identity module is reachable: nobody authenticates, and the 401 says what to configure.</summary>
internal sealed class UnconfiguredAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "unconfigured";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\", error_description=\"this module has no Identity authority configured (CloudPortal:Identity:Authority)\"";
        return Task.CompletedTask;
    }
}

/// <summary>The caller must hold at least <see cref="Minimum"/> in the project the request names.</summary>
public sealed record ProjectRoleRequirement(ProjectRole Minimum) : IAuthorizationRequirement;

internal sealed class ProjectRoleHandler : AuthorizationHandler<ProjectRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ProjectRoleRequirement requirement)
    {
        if (context.Resource is HttpContext http)
        {
            var caller = Caller.From(http);
            if (caller.ProjectId is { } project && caller.Has(requirement.Minimum, project))
                context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}
