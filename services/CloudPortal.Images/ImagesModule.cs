using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Import;
using CloudPortal.Images.Inspection;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Quotas;
using CloudPortal.Images.Sharing;
using CloudPortal.Images.Storage;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Images;

/// <summary>
/// Glance's role: the image catalog. Streaming upload with checksums and a size cap, one intake inspection
/// for every image (format from the bytes, no backing or data files, qemu-img with explicit formats),
/// visibility and sharing, URL import and qcow2 conversion as Hangfire jobs, image quotas, and a
/// download for compute agents.
/// </summary>
public static class ImagesModule
{
    public const string Name = "images";

    public static WebApplicationBuilder AddImagesModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<ImagesDbContext, SqliteImagesDbContext, PostgresImagesDbContext>(Name);
        builder.Services.AddOptions<ImagesOptions>().BindConfiguration(ImagesOptions.Section);
        var options = builder.Configuration.GetSection(ImagesOptions.Section).Get<ImagesOptions>() ?? new();
        var root = string.IsNullOrWhiteSpace(options.StoragePath)
            ? Path.Combine(builder.Configuration.GetCloudPortalOptions().FullDataDir, "images")
            : options.StoragePath;
        builder.Services.AddSingleton<IImageStore>(new FileSystemImageStore(root));
        builder.Services.AddSingleton<QemuImg>();
        builder.Services.AddSingleton<ImageInspector>();
        builder.Services.AddSingleton<ImportGuard>();
        builder.Services.AddScoped<ImageIntake>();
        builder.Services.AddImageJobs();
        builder.Services.AddHostedService<StaleUploadReaper>();
        builder.Services.AddSingleton<ImageUsageReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ImageUsageReporter>());
        builder.AddCloudPortalAuthentication();
        builder.AddConsumers(bus => bus.AddConsumer<ImageQuotaLimitConsumer>(typeof(ImageQuotaLimitConsumerDefinition)));
        return builder;
    }

    public static WebApplication MapImagesModule(this WebApplication app)
    {
        app.MapModuleApi(Name, "/images/v2").WithProjectHeader()
            .MapImages()
            .MapImageData()
            .MapMembers()
            .MapImport()
            .MapUsage();
        return app;
    }
}
