using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Tests.Quotas;

// An owner module built the way real ones are (its own database, AddQuotaLimitCache, the real bus and inbox), and a
// stand-in for Identity's GetQuotaLimits answer that the test controls, to exercise the cache's rules directly.

public class LimitsDbContext(DbContextOptions options) : ModuleDbContext(options), IQuotaLimitStore
{
    public DbSet<CachedQuotaLimit> QuotaLimits => Set<CachedQuotaLimit>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.MapQuotaLimits();
    }
}

public sealed class SqliteLimitsDbContext(DbContextOptions<SqliteLimitsDbContext> options) : LimitsDbContext(options);

public sealed class PostgresLimitsDbContext(DbContextOptions<PostgresLimitsDbContext> options) : LimitsDbContext(options);

/// <summary>Answers GetQuotaLimits with <see cref="Snapshot"/>, faulting the first <see cref="FailFirst"/> requests.</summary>
public sealed class FakeIdentity
{
    private readonly Lock _gate = new();
    private readonly List<QuotaLimitsSnapshot?> _answers = [];

    public QuotaLimitsSnapshot Snapshot { get; set; } = new([], [], DateTimeOffset.UnixEpoch);

    public int FailFirst { get; set; }

    public int Faulted
    {
        get
        {
            lock (_gate)
                return _answers.Count(a => a is null);
        }
    }

    /// <summary>Null: fault this request.</summary>
    public QuotaLimitsSnapshot? Answer()
    {
        lock (_gate)
        {
            var answer = _answers.Count < FailFirst ? null : Snapshot;
            _answers.Add(answer);
            return answer;
        }
    }

    /// <summary>
    /// Waits until <paramref name="snapshot"/> was served and the cache asked again: the cache asks only after it has
    /// applied the previous answer, so the snapshot is in the database.
    /// </summary>
    public async Task WaitUntilAppliedAsync(QuotaLimitsSnapshot snapshot, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_gate)
            {
                var served = _answers.IndexOf(snapshot);
                if (served >= 0 && _answers.Count > served + 1)
                    return;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the cache did not ask again after the snapshot of {snapshot.ReadAt:O} within {timeout}");
            await Task.Delay(100);
        }
    }
}

public sealed class FakeIdentityConsumer(FakeIdentity identity) : IConsumer<GetQuotaLimits>
{
    public async Task Consume(ConsumeContext<GetQuotaLimits> context)
    {
        var answer = identity.Answer() ?? throw new InvalidOperationException("Identity is not ready yet");
        await context.RespondAsync(answer);
    }
}

/// <summary>A host caching <c>instances</c> and <c>cores</c> as owner <c>test-owner</c>, on SQLite or PostgreSQL and the in-memory bus.</summary>
public sealed class LimitsHost : IAsyncDisposable
{
    public const string Owner = "test-owner";

    private readonly IHost _host;

    private LimitsHost(IHost host) => _host = host;

    public FakeIdentity Identity => _host.Services.GetRequiredService<FakeIdentity>();

    public static async Task<LimitsHost> StartAsync(string provider, string dataDir, TestPostgres? postgres, FakeIdentity identity, TimeSpan? resyncInterval = null)
    {
        Directory.CreateDirectory(dataDir);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudPortal:DataDir"] = dataDir,
            ["CloudPortal:Database:Provider"] = provider == "postgres" ? "Postgres" : "Sqlite",
            ["CloudPortal:Database:Postgres"] = provider == "postgres" ? TestPostgres.ServerConnectionString : null,
            ["CloudPortal:Database:DatabasePrefix"] = postgres?.Prefix,
            ["CloudPortal:Quotas:ResyncInterval"] = (resyncInterval ?? TimeSpan.FromMinutes(10)).ToString(),
        });
        builder.AddModuleDatabase<LimitsDbContext, SqliteLimitsDbContext, PostgresLimitsDbContext>("limits");
        builder.AddQuotaLimitCache<LimitsDbContext>(Owner, QuotaResources.Instances, QuotaResources.Cores);
        builder.Services.AddSingleton(identity);
        builder.AddConsumers(bus => bus.AddConsumer<FakeIdentityConsumer>());
        builder.AddCloudPortalBus();
        var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            // The test module has no migrations of its own; Images' migrations of the same table run in Images.Tests.
            await scope.ServiceProvider.GetRequiredService<LimitsDbContext>().Database.EnsureCreatedAsync();
        }
        await host.StartAsync();
        return new LimitsHost(host);
    }

    /// <summary>Publishes an event as Identity's relay does and waits until the cache's consumer has handled it (its inbox record).</summary>
    public async Task DeliverAsync(ProjectQuotaChanged message)
    {
        var messageId = NewId.NextGuid();
        await _host.Services.GetRequiredService<IBus>().Publish(message, context => context.MessageId = messageId);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await QueryAsync(db => db.Inbox.AnyAsync(m => m.MessageId == messageId && m.Consumer == $"{Owner}-quota-limits")))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the cache did not handle {message} within 30 s");
            await Task.Delay(50);
        }
    }

    public Task<long> LimitAsync(Guid project, string resource) =>
        QueryAsync(db => db.LimitAsync(project, resource, CancellationToken.None));

    public Task<CachedQuotaLimit?> RowAsync(Guid project, string resource) =>
        QueryAsync(db => db.QuotaLimits.AsNoTracking().SingleOrDefaultAsync(l => l.ProjectId == project && l.Resource == resource));

    public async Task<T> QueryAsync<T>(Func<LimitsDbContext, Task<T>> query)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<LimitsDbContext>());
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(stop.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
