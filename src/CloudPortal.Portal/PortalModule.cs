using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Portal;

/// <summary>The tenant and admin web UI. It owns no data; its pages and actions arrive with their issues.</summary>
public static class PortalModule
{
    public const string Name = "portal";

    public static WebApplicationBuilder AddPortalModule(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapPortalModule(this WebApplication app) => app;
}
