using CloudPortal.Portal.Api;
using CloudPortal.Portal.Auth;
using CloudPortal.Portal.Features.Shared;
using CloudPortal.Portal.Live;
using CloudPortal.ServiceDefaults.Messaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Razor;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;

namespace CloudPortal.Portal;

/// <summary>
/// The tenant and admin web UI at <c>/</c>. It owns no data: every page reads and changes the cloud through the
/// modules' REST APIs with the signed-in user's token, and Compute's events keep the instance pages live.
/// </summary>
public static class PortalModule
{
    public const string Name = "portal";

    /// <summary>Where the embedded static files (ours and the npm packages') are served.</summary>
    public const string AssetsPath = "/assets";

    public static WebApplicationBuilder AddPortalModule(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section);
        builder.AddPortalAuthentication();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddHttpClient(PortalApi.IdentityClient);
        builder.Services.AddScoped<ProjectContext>();
        builder.Services.AddScoped<PortalApi>();
        builder.Services.AddScoped<MeDirectory>();
        builder.Services.AddMemoryCache();
        builder.Services.AddControllersWithViews(mvc =>
        {
            mvc.Filters.Add<PortalErrorFilter>();
            mvc.Filters.Add<AntiforgeryRefusalFilter>();
        }).AddApplicationPart(typeof(PortalModule).Assembly);
        builder.Services.Configure<RazorViewEngineOptions>(razor =>
        {
            // Feature folders: Features/{Controller}/{View}.cshtml, shared parts in Features/Shared (the "Portal" area).
            razor.AreaViewLocationFormats.Insert(0, "/Features/{1}/{0}.cshtml");
            razor.AreaViewLocationFormats.Insert(1, "/Features/Shared/{0}.cshtml");
        });
        builder.Services.AddSignalR();
        builder.AddPerProcessConsumer<InstanceStateChangedConsumer>("portal-live");
        builder.AddPerProcessConsumer<UserSessionsRevokedConsumer>("portal-sessions");
        return builder;
    }

    public static WebApplication MapPortalModule(this WebApplication app)
    {
        // Sign-in and sign-out forms end in a redirect to Identity, which may be another origin (distributed).
        var identity = new Uri(PortalAuthentication.Authority(app.Configuration,
            app.Configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions()));
        SecurityHeaders.FormTargets = $"'self' {identity.GetLeftPart(UriPartial.Authority)}";
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new ManifestEmbeddedFileProvider(typeof(PortalModule).Assembly, "wwwroot"),
            RequestPath = AssetsPath,
            OnPrepareResponse = f => f.Context.Response.Headers.CacheControl = "public, max-age=3600",
        });
        app.MapControllers();
        app.MapHub<LiveHub>(LiveHub.Path).ExcludeFromDescription();
        return app;
    }
}
