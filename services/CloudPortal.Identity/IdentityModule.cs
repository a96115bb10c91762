using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.AccessKeys;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Bootstrap;
using CloudPortal.Identity.Connect;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Projects;
using CloudPortal.Identity.Quotas;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace CloudPortal.Identity;

/// <summary>Keystone's role: users, projects, roles, tokens (OpenIddict), EC2 keys, quota limits, audit.</summary>
public static class IdentityModule
{
    public const string Name = "identity";

    public static WebApplicationBuilder AddIdentityModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<IdentityModuleDbContext, SqliteIdentityModuleDbContext, PostgresIdentityModuleDbContext>(Name);
        builder.Services.AddOptions<IdentityModuleOptions>().BindConfiguration(IdentityModuleOptions.Section);
        var options = builder.Configuration.GetSection(IdentityModuleOptions.Section).Get<IdentityModuleOptions>() ?? new();
        var dataDir = builder.Configuration.GetCloudPortalOptions().FullDataDir;
        // Plain HTTP only where the host allowed it (loopback listen addresses, or --insecure-http): see TransportSecurity.
        var allowHttp = TransportSecurity.AllowsHttp(builder.Configuration);

        var keysDirectory = options.KeysDirectory(dataDir);
        var keys = ServerKeys.LoadOrCreate(keysDirectory);   // first: it creates the directory owner-only

        // Access-key secrets, cookies and antiforgery tokens: keys in the module's database, shared by replicas, their
        // master keys encrypted with a key-encryption key kept outside the database (ADR 0013).
        builder.Services.AddDataProtection().SetApplicationName("cloudportal").PersistKeysToDbContext<IdentityModuleDbContext>()
            .ProtectKeysWithKeyEncryptionKey(options, keysDirectory);

        builder.Services.AddIdentityCore<CloudUser>(identity =>
            {
                identity.Password.RequiredLength = 12;
                identity.Password.RequiredUniqueChars = 5;
                identity.Password.RequireDigit = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Lockout.MaxFailedAccessAttempts = 5;
                identity.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                identity.Lockout.AllowedForNewUsers = true;
                identity.User.RequireUniqueEmail = false;
                identity.ClaimsIdentity.UserIdClaimType = Claims.Subject;
            })
            .AddPasswordValidator<NotUserNamePasswordValidator>()
            .AddEntityFrameworkStores<IdentityModuleDbContext>()
            .AddSignInManager()
            .AddDefaultTokenProviders();
        builder.Services.AddAuthentication().AddIdentityCookies();
        // Identity's own sign-in cookie checks the security stamp on every request (its pages and the authorization
        // endpoint only): a password reset or a disabled account ends it at once rather than 30 minutes later.
        builder.Services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.Zero);
        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "cloudportal.identity";
            cookie.Cookie.Path = "/identity";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.Cookie.SecurePolicy = allowHttp ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            cookie.LoginPath = "/identity/account/login";
            cookie.LogoutPath = "/identity/account/logout";
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
            cookie.SlidingExpiration = true;
        });

        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityModuleDbContext>())
            .AddServer(server =>
            {
                if (options.Issuer is { Length: > 0 } issuer)
                    server.SetIssuer(new Uri(issuer));
                server.SetAuthorizationEndpointUris("identity/connect/authorize")
                    .SetTokenEndpointUris("identity/connect/token")
                    .SetEndSessionEndpointUris("identity/connect/endsession");
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow()
                    .AllowCustomFlow(Ec2Tokens.GrantType);
                // S256 only: a "plain" challenge is the verifier itself, so an intercepted authorization request would
                // reveal what redeems the code. Without a method, OpenIddict would assume plain and now refuses it.
                server.Configure(o => o.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
                server.RegisterScopes(Scopes.OpenId, Scopes.Profile, Scopes.Email, Scopes.OfflineAccess, Clients.ApiScope);
                server.AddSigningKey(keys.Signing).AddEncryptionKey(keys.Encryption);
                // Plain JWTs: every module validates them with the public signing key alone.
                server.DisableAccessTokenEncryption();
                server.SetAccessTokenLifetime(options.AccessTokenLifetime).SetRefreshTokenLifetime(options.RefreshTokenLifetime);
                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough();
                if (allowHttp)
                    aspNetCore.DisableTransportSecurityRequirement();
            });
        builder.MarkIdentityServerHosted();
        builder.AddCloudPortalAuthentication();

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddScoped<TokenPrincipals>();
        builder.Services.AddScoped<UserSessions>();
        builder.Services.AddScoped<KeyRingRewrap>();
        builder.Services.AddScoped<Ec2SignatureCheck>();
        builder.Services.AddSingleton<IdentitySeeder>();
        builder.Services.AddHostedService<IdentitySeedService>();
        builder.AddConsumers(bus =>
        {
            bus.AddConsumer<VerifyEc2SignatureConsumer>();
            bus.AddConsumer<QuotaUsageReportedConsumer>(typeof(QuotaUsageReportedConsumerDefinition));
            bus.AddConsumer<GetQuotaLimitsConsumer>();
            bus.AddConsumer<GetDisabledProjectsConsumer>();
        });
        builder.Services.AddControllersWithViews().AddApplicationPart(typeof(IdentityModule).Assembly);
        return builder;
    }

    public static WebApplication MapIdentityModule(this WebApplication app)
    {
        app.MapControllers();
        app.MapModuleApi(Name, "/identity/v1")
            .ProjectIdRoutesAreProjectResources()
            .MapProjects()
            .MapMembers()
            .MapUsers()
            .MapQuotas()
            .MapAccessKeys()
            .MapAudit();
        return app;
    }
}
