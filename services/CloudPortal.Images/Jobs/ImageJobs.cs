using CloudPortal.Images.Conversion;
using CloudPortal.Images.Import;
using CloudPortal.ServiceDefaults.Configuration;
using Hangfire;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Jobs;

/// <summary>
/// The module's Hangfire storage and client. The storage is the module's own: the <c>hangfire</c> schema of
/// its PostgreSQL database, or <c>images-jobs.db</c> beside <c>images.db</c> with SQLite (a file of its own
/// so Hangfire's polling never contends with the quota lock's write transactions). It is created on first
/// use, after the module's database has been migrated (and, on PostgreSQL, created).
/// </summary>
public sealed class ImageJobs(IServiceProvider services, IConfiguration configuration, IOptions<ImagesOptions> options) : IDisposable
{
    public const string Queue = "images";

    private readonly Lazy<JobStorage> _storage = new(() => CreateStorage(configuration, options.Value));
    private readonly Lazy<IBackgroundJobClient> _client = new(() =>
    {
        // Applies AddHangfire's configuration (serializer settings, DI job activator) to Hangfire's globals.
        services.GetRequiredService<IGlobalConfiguration>();
        return HangfireServiceCollectionExtensions.GetInternalServices(services, out var factory, out var stateChanger, out _)
            ? new BackgroundJobClient(JobStorageOf(services), factory, stateChanger)
            : new BackgroundJobClient(JobStorageOf(services));
    });

    public JobStorage Storage => _storage.Value;

    public string EnqueueImport(Guid imageId) =>
        _client.Value.Create(Job.FromExpression<ImportImageJob>(j => j.RunAsync(imageId, null, CancellationToken.None), Queue), new EnqueuedState(Queue));

    public string EnqueueConversion(Guid imageId) =>
        _client.Value.Create(Job.FromExpression<ConvertImageJob>(j => j.RunAsync(imageId, null, CancellationToken.None), Queue), new EnqueuedState(Queue));

    private static JobStorage JobStorageOf(IServiceProvider services) => services.GetRequiredService<ImageJobs>().Storage;

    private static JobStorage CreateStorage(IConfiguration configuration, ImagesOptions images)
    {
        var cloud = configuration.GetCloudPortalOptions();
        if (cloud.Database.Provider == DatabaseProvider.Postgres)
        {
            var connectionString = ServiceDefaults.Persistence.ModuleConnections.Postgres(cloud, ImagesModule.Name);
            var storageOptions = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire",
                PrepareSchemaIfNecessary = true,
                QueuePollInterval = images.JobPollInterval,
                InvisibilityTimeout = TimeSpan.FromHours(6),
                UseSlidingInvisibilityTimeout = true,
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions, null), storageOptions);
        }
        return new SQLiteStorage(Path.Combine(cloud.FullDataDir, "images-jobs.db"), new SQLiteStorageOptions
        {
            QueuePollInterval = images.JobPollInterval,
        });
    }

    public void Dispose()
    {
        if (_storage.IsValueCreated && _storage.Value is IDisposable disposable)
            disposable.Dispose();
    }
}

public static class ImageJobsRegistration
{
    /// <summary>Hangfire with the module's storage and one server per process, working the <c>images</c> queue only.</summary>
    public static IServiceCollection AddImageJobs(this IServiceCollection services)
    {
        services.AddSingleton<ImageJobs>();
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        // The obsolete constructor is the one that takes this module's own storage and DI's job activator;
        // Hangfire 1.8 has no other way to run a server on a storage that is not the global one.
#pragma warning disable CS0618
        services.AddHangfireServer(provider =>
        {
            provider.GetRequiredService<IGlobalConfiguration>();
            var options = new BackgroundJobServerOptions
            {
                ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:images",
                Queues = [ImageJobs.Queue],
                WorkerCount = Math.Max(2, Environment.ProcessorCount),
                SchedulePollingInterval = TimeSpan.FromSeconds(1),
            };
            var storage = provider.GetRequiredService<ImageJobs>().Storage;
            if (!HangfireServiceCollectionExtensions.GetInternalServices(provider, out var factory, out var stateChanger, out var performer))
                return new BackgroundJobServer(options, storage);
            return new BackgroundJobServer(
                options,
                storage,
                [],
                provider.GetService<IJobFilterProvider>() ?? JobFilterProviders.Providers,
                provider.GetRequiredService<JobActivator>(),
                factory,
                performer,
                stateChanger);
        });
#pragma warning restore CS0618
        services.AddScoped<ImportImageJob>();
        services.AddScoped<ConvertImageJob>();
        return services;
    }
}
