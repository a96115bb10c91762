using System.Diagnostics;
using CloudPortal.Scheduler;
using CloudPortal.Scheduler.Aggregates;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CloudPortal.Bench.Scheduler;

/// <summary>
/// The whole SelectHosts path on PostgreSQL (without the bus): hosts from the scheduler's cache (refreshed in the
/// background as in production), select, claim with the generation check, fall back on conflicts. Several schedulers =
/// several service providers, each with its own cache and connection pool, claiming on the same database.
/// </summary>
internal static class SelectAndClaim
{
    /// <summary>Adds one row per run, plus (with one scheduler) a row for reading every host, what a cache refresh costs.</summary>
    public static async Task RunAsync(List<Result> results, string server, int hosts, int decisions, int schedulers)
    {
        var database = $"bench_scheduler_{Guid.NewGuid():N}"[..32];
        var connection = new NpgsqlConnectionStringBuilder(server) { Database = database, MaxPoolSize = 20 }.ToString();
        var providers = Enumerable.Range(0, schedulers).Select(_ => Services(connection)).ToList();
        try
        {
            await SeedAsync(providers[0], hosts);
            var names = Enumerable.Range(0, hosts).Select(i => $"host-{i:00000}").ToList();
            // Warm-up: JIT tiers, connection pools, query plans, every scheduler's host cache.
            foreach (var provider in providers)
                await DecideAsync(provider, names, 1_500, new Random(3));
            await EmptyAsync(providers);

            var latencies = new double[decisions];
            var placed = 0;
            var next = -1;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(providers.Select(async (provider, s) =>
            {
                var random = new Random(100 + s);
                int i;
                while ((i = Interlocked.Increment(ref next)) < decisions)
                {
                    var started = Stopwatch.GetTimestamp();
                    var outcome = await DecideOnceAsync(provider, names, random);
                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (outcome.Selected is not null)
                        Interlocked.Increment(ref placed);
                }
            }));
            var elapsed = total.Elapsed;
            if (schedulers == 1)
                results.Add(await SnapshotReadAsync(providers[0], hosts, decisions));
            var mode = schedulers == 1 ? "select+claim (PostgreSQL)" : $"select+claim (PostgreSQL) x{schedulers} schedulers";
            results.Add(new Result(hosts, mode, decisions, placed, elapsed, latencies));
        }
        finally
        {
            foreach (var provider in providers)
                await provider.DisposeAsync();
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ToString());
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task<Result> SnapshotReadAsync(ServiceProvider provider, int hosts, int reads)
    {
        var latencies = new double[reads];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < reads; i++)
        {
            await using var scope = provider.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
            var started = Stopwatch.GetTimestamp();
            await HostSnapshot.LoadAsync(db, DateTime.UtcNow, TimeSpan.FromHours(1));
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        return new Result(hosts, "read every host (PostgreSQL): a cache refresh", reads, null, total.Elapsed, latencies);
    }

    /// <summary>Gives back what the warm-up claimed, so that every run starts from the same empty cloud with fresh caches.</summary>
    private static async Task EmptyAsync(IReadOnlyList<ServiceProvider> providers)
    {
        await using (var scope = providers[0].CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
            await db.Allocations.ExecuteDeleteAsync();
            await db.ComputeNodes.ExecuteUpdateAsync(s => s
                .SetProperty(n => n.UsedVCpus, 0).SetProperty(n => n.UsedMemoryMb, 0L).SetProperty(n => n.UsedDiskGb, 0L)
                .SetProperty(n => n.InstanceCount, 0).SetProperty(n => n.Generation, n => n.Generation + 1));
        }
        foreach (var provider in providers)
        {
            await using var scope = provider.CreateAsyncScope();
            await provider.GetRequiredService<HostStateCache>().GetAsync(scope.ServiceProvider.GetRequiredService<SchedulerDbContext>(), fresh: true);
        }
    }

    private static ServiceProvider Services(string connection)
    {
        var services = new ServiceCollection();
        services.AddDbContext<SchedulerDbContext, PostgresSchedulerDbContext>(o => o.UseNpgsql(connection));
        services.AddSchedulerServices();
        services.Configure<SchedulerOptions>(o => o.NodeDownAfter = TimeSpan.FromHours(1));
        return services.BuildServiceProvider();
    }

    private static async Task SeedAsync(ServiceProvider provider, int hosts)
    {
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
        await db.Database.MigrateAsync();
        var random = new Random(1);
        var now = DateTimeOffset.UtcNow;
        for (var batch = 0; batch < hosts; batch += 1000)
        {
            for (var i = batch; i < Math.Min(hosts, batch + 1000); i++)
            {
                var node = ComputeNode.Register(Cloud.Report(i, random, now), Cloud.Zones[i % Cloud.Zones.Length]);
                if (i % 20 == 7)
                    node.Disable("maintenance");
                db.ComputeNodes.Add(node);
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
        // The same SSD aggregate as the in-memory snapshot (every tenth host), so that both modes see the same request mix.
        var ssd = await AggregateAdministration.CreateAsync(db, "ssd", new Dictionary<string, string> { ["ssd"] = "true" }, now.UtcDateTime);
        ssd.Hosts.AddRange(Enumerable.Range(0, hosts).Where(i => i % 10 == 0).Select(i => new AggregateHost { AggregateId = ssd.Id, Host = $"host-{i:00000}" }));
        await db.SaveChangesAsync();
    }

    private static async Task DecideAsync(ServiceProvider provider, IReadOnlyList<string> names, int count, Random random)
    {
        for (var i = 0; i < count; i++)
            await DecideOnceAsync(provider, names, random);
    }

    private static async Task<PlacementOutcome> DecideOnceAsync(ServiceProvider provider, IReadOnlyList<string> names, Random random)
    {
        await using var scope = provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PlacementService>().SelectAsync(Cloud.Request(random, names));
    }
}
