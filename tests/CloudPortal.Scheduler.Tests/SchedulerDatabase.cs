using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Scheduler.Tests;

/// <summary>
/// A migrated Scheduler database for one test, on a real SQLite file or a real PostgreSQL database, and any
/// number of independent "scheduler instances" (service providers with their own DbContexts) over it.
/// </summary>
public sealed class SchedulerDatabase : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");
    private readonly List<ServiceProvider> _instances = [];
    private TestPostgres? _postgres;

    private SchedulerDatabase(string provider) => Provider = provider;

    public string Provider { get; }

    public static async Task<SchedulerDatabase> CreateAsync(string provider)
    {
        var database = new SchedulerDatabase(provider);
        if (provider == "postgres")
            database._postgres = await TestPostgres.CreateAsync();
        else
            Directory.CreateDirectory(database._dir);
        await using var scope = database.Instance().CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
        await db.Database.MigrateAsync();
        if (provider == "sqlite")
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");   // as ModuleMigrator does
        return database;
    }

    /// <summary>A new scheduler instance: its own service provider, DbContexts and connection pool.</summary>
    public ServiceProvider Instance(Action<SchedulerOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        AddTo(collection);
        if (configure is not null)
            collection.Configure(configure);
        services?.Invoke(collection);
        var provider = collection.BuildServiceProvider(validateScopes: true);
        _instances.Add(provider);
        return provider;
    }

    /// <summary>Registers this database's DbContext and the Scheduler's services in another container (e.g. a host's).</summary>
    public void AddTo(IServiceCollection collection)
    {
        if (Provider == "postgres")
            collection.AddDbContext<SchedulerDbContext, PostgresSchedulerDbContext>(o => o.UseNpgsql(_postgres!.ConnectionString("scheduler")));
        else
        {
            var connection = new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir, "scheduler.db"), DefaultTimeout = 30, Pooling = true }.ToString();
            collection.AddDbContext<SchedulerDbContext, SqliteSchedulerDbContext>(o => o.UseSqlite(connection));
        }
        collection.AddSchedulerServices();
    }

    public async Task<T> WithDbAsync<T>(Func<SchedulerDbContext, Task<T>> action)
    {
        await using var scope = (_instances.FirstOrDefault() ?? Instance()).CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<SchedulerDbContext>());
    }

    public Task WithDbAsync(Func<SchedulerDbContext, Task> action) => WithDbAsync(async db => { await action(db); return 0; });

    /// <summary>Registers a node as if its agent had just reported, then lets <paramref name="admin"/> adjust it.</summary>
    public Task AddNodeAsync(string host, int vCpus, long memoryMb, long diskGb, Action<ComputeNode>? admin = null, DateTimeOffset? reportedAt = null, string? cpuModel = "x86_64") =>
        WithDbAsync(async db =>
        {
            var node = ComputeNode.Register(new ComputeNodeReported(host, vCpus, memoryMb, diskGb, "QEMU", "7.2.0", cpuModel, "libvirt", false, reportedAt ?? DateTimeOffset.UtcNow));
            admin?.Invoke(node);
            db.ComputeNodes.Add(node);
            await db.SaveChangesAsync();
        });

    public Task<ComputeNode> NodeAsync(string host) =>
        WithDbAsync(db => db.ComputeNodes.AsNoTracking().SingleAsync(n => n.Host == host));

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
            await instance.DisposeAsync();
        if (_postgres is not null)
            await _postgres.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
