using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Testing;
using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests;

/// <summary>The Scheduler's real migrations and consumer, on a real SQLite file and a real PostgreSQL database.</summary>
public sealed class NodeReportConsumerTests : IDisposable
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Reports_register_a_node_update_it_and_ignore_stale_ones(string provider)
    {
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        await using var services = Services(provider, postgres);
        await using (var scope = services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SchedulerDbContext>().Database.MigrateAsync();
        var harness = services.GetRequiredService<ITestHarness>();
        await harness.Start();
        var consumer = harness.GetConsumerHarness<ComputeNodeReportedConsumer>();

        await harness.Bus.Publish(ComputeNodeTests.Report("node-1", T0, vCpus: 8));
        await harness.Bus.Publish(ComputeNodeTests.Report("node-2", T0, vCpus: 2));
        Assert.True(await consumer.Consumed.Any<Contracts.Scheduler.ComputeNodeReported>(m => m.Context.Message.Host == "node-2"));
        await harness.Bus.Publish(ComputeNodeTests.Report("node-1", T0.AddSeconds(30), vCpus: 16));
        Assert.True(await consumer.Consumed.Any<Contracts.Scheduler.ComputeNodeReported>(m => m.Context.Message.VCpus == 16));
        await harness.Bus.Publish(ComputeNodeTests.Report("node-1", T0.AddSeconds(10), vCpus: 4));
        Assert.True(await consumer.Consumed.Any<Contracts.Scheduler.ComputeNodeReported>(m => m.Context.Message.VCpus == 4));
        Assert.False(await harness.Published.Any<Fault>());

        await using var query = services.CreateAsyncScope();
        var db = query.ServiceProvider.GetRequiredService<SchedulerDbContext>();
        var hosts = await HostList.ListAsync(db, T0.AddSeconds(31).UtcDateTime, TimeSpan.FromSeconds(90));
        Assert.Equal(["node-1", "node-2"], hosts.Select(h => h.Host));
        Assert.Equal(16, hosts[0].VCpus);
        Assert.Equal(T0.AddSeconds(30).UtcDateTime, hosts[0].LastHeartbeatAt, TimeSpan.FromMilliseconds(1));
        Assert.All(hosts, h => Assert.True(h.Up));
    }

    private ServiceProvider Services(string provider, TestPostgres? postgres)
    {
        var services = new ServiceCollection();
        if (provider == "postgres")
            services.AddDbContext<SchedulerDbContext, PostgresSchedulerDbContext>(o => o.UseNpgsql(postgres!.ConnectionString("scheduler")));
        else
        {
            Directory.CreateDirectory(_dir);
            services.AddDbContext<SchedulerDbContext, SqliteSchedulerDbContext>(o => o.UseSqlite($"Data Source={Path.Combine(_dir, "scheduler.db")}"));
        }
        services.AddSchedulerServices();
        services.AddMassTransitTestHarness(bus => bus.AddConsumer<ComputeNodeReportedConsumer>(typeof(ComputeNodeReportedConsumerDefinition)));
        return services.BuildServiceProvider(validateScopes: true);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
