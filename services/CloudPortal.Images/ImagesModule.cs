using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Import;
using CloudPortal.Images.Inspection;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Launch;
using CloudPortal.Images.Quotas;
using CloudPortal.Images.Sharing;
using CloudPortal.Images.Storage;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Images;

/// <summary>
/// Glance's role: the image catalog. Streaming upload with checksums and a size cap, one intake inspection
/// for every image (format from the bytes, no backing or data files, qemu-img with explicit formats),
/// visibility and sharing, URL import and qcow2 conversion as Hangfire jobs, image quotas, Compute's launch
/// question over the bus, and a download for compute nodes through signed, expiring URLs.
/// </summary>
public static class ImagesModule
{
    public const string Name = "images";

    public static WebApplicationBuilder AddImagesModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<ImagesDbContext, SqliteImagesDbContext, PostgresImagesDbContext>(Name);
        builder.Services.AddOptions<ImagesOptions>().BindConfiguration(ImagesOptions.Section);
        var options = builder.Configuration.GetSection(ImagesOptions.Section).Get<ImagesOptions>() ?? new();
        if (HashAlgorithms.Sha512Enabled(options.HashAlgorithms) is null)
            throw new StartupException($"CloudPortal:Images:HashAlgorithms must be 'sha256' or 'sha256,sha512' (SHA-256 is always computed: agents verify it), not '{options.HashAlgorithms}'");
        var root = string.IsNullOrWhiteSpace(options.StoragePath)
            ? Path.Combine(builder.Configuration.GetCloudPortalOptions().FullDataDir, "images")
            : options.StoragePath;
        builder.Services.AddSingleton<IImageStore>(new FileSystemImageStore(root));
        builder.Services.AddSingleton(new DownloadSigner(root, PublicUrl(options, builder.Configuration)));
        builder.Services.AddSingleton<QemuImg>();
        builder.Services.AddSingleton<ImageInspector>();
        builder.Services.AddSingleton<ImportGuard>();
        builder.Services.AddScoped<ImageIntake>();
        builder.Services.AddImageJobs();
        builder.Services.AddHostedService<StaleUploadReaper>();
        builder.Services.AddSingleton<ImageUsageReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ImageUsageReporter>());
        builder.AddCloudPortalAuthentication();
        builder.AddQuotaLimitCache<ImagesDbContext>(Name, [.. ImageQuotas.Resources]);
        builder.AddConsumers(bus => bus.AddConsumer<GetLaunchImageConsumer>(typeof(GetLaunchImageConsumerDefinition)));
        return builder;
    }

    /// <summary><c>CloudPortal:Images:PublicUrl</c>, else the first address this process listens on.</summary>
    private static Uri PublicUrl(ImagesOptions options, IConfiguration configuration)
    {
        var value = string.IsNullOrWhiteSpace(options.PublicUrl) ? ListenUrls.Callable(configuration["urls"])[0] : options.PublicUrl.Trim();
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment) || !string.IsNullOrEmpty(url.UserInfo))
            throw new StartupException($"CloudPortal:Images:PublicUrl must be an http(s) URL compute nodes reach the Images module at, such as http://images.internal:8080, not '{value}'");
        return url;
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
