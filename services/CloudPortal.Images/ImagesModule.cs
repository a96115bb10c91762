using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Images;

public static class ImagesModule
{
    public const string Name = "images";

    public static WebApplicationBuilder AddImagesModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<ImagesDbContext, SqliteImagesDbContext, PostgresImagesDbContext>(Name);
        return builder;
    }

    /// <summary>No routes yet: a module without a feature exposes nothing but its health (its database in <c>/health/ready</c>).</summary>
    public static WebApplication MapImagesModule(this WebApplication app) => app;
}
