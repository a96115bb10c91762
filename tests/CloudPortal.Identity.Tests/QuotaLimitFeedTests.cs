using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using CloudPortal.Contracts.Identity;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// What Identity tells the owners about limits, over RabbitMQ: an event per change (a removed override says so, instead
/// of passing the default off as the project's limit), and a snapshot of every limit on request.
/// </summary>
public sealed class QuotaLimitFeedTests
{
    [Fact]
    public async Task Identity_announces_an_override_removal_and_answers_a_snapshot_of_every_limit()
    {
        await using var cloud = await TestCloud.StartAsync("distributed");
        var tenants = await Tenants.CreateAsync(cloud);
        await using var owner = await TestOwner.StartAsync(cloud.Deployment.RabbitMq!.Uri());
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var (a, b) = (tenants.ProjectA, tenants.ProjectB);

        (await admin.PutAsJsonAsync("identity/v1/quota-defaults/cores", new { limit = 40 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/instances", new { limit = 3 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"identity/v1/projects/{b}/quota/cores", new { limit = 7 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/cores", new { limit = 5 })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"identity/v1/projects/{a}/quota/cores")).StatusCode);

        var events = await owner.WaitForEventsAsync(5);
        var set = events.Single(e => e.ProjectId == a && e.Resource == "cores" && !e.OverrideRemoved);
        var removed = events.Single(e => e.ProjectId == a && e.Resource == "cores" && e.OverrideRemoved);
        Assert.Equal(5, set.Limit);
        Assert.Equal(40, removed.Limit);   // the default then, for owners that predate the flag
        Assert.True(removed.ChangedAt > set.ChangedAt);
        Assert.All(events.Where(e => e != removed), e => Assert.False(e.OverrideRemoved));

        var snapshot = await owner.SnapshotAsync("instances", "cores", "no_such_resource");
        Assert.Equal([("instances", 10L), ("cores", 40L)], snapshot.Defaults.Select(d => (d.Resource, d.Limit)).OrderByDescending(d => d.Resource));
        var overrides = snapshot.Overrides.Where(o => o.ProjectId == a || o.ProjectId == b).Select(o => (o.ProjectId, o.Resource, o.Limit)).ToHashSet();
        Assert.Equal([(b, "cores", 7L), (a, "instances", 3L)], overrides.OrderBy(o => o.Resource));
        // Read after every change above: an owner may let it win over everything it cached from those events.
        Assert.True(snapshot.ReadAt > events.Max(e => e.ChangedAt));
        Assert.Equal(TimeSpan.Zero, snapshot.ReadAt.Offset);
    }

    /// <summary>The test's own bus endpoint on the deployment's virtual host: it plays an owner module.</summary>
    private sealed class TestOwner : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private TestOwner(ServiceProvider services) => _services = services;

        public static async Task<TestOwner> StartAsync(string rabbitMqUri)
        {
            var services = new ServiceCollection();
            services.AddSingleton<ConcurrentQueue<ProjectQuotaChanged>>();
            services.AddMassTransit(bus =>
            {
                bus.AddConsumer<RecordLimitEvents>().Endpoint(e => e.Name = "test-owner-quota-limits");
                bus.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(new Uri(rabbitMqUri));
                    cfg.ConfigureEndpoints(context);
                });
            });
            var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<IBusControl>().StartAsync(TestContext.Current.CancellationToken);
            return new TestOwner(provider);
        }

        public async Task<IReadOnlyList<ProjectQuotaChanged>> WaitForEventsAsync(int count)
        {
            var seen = _services.GetRequiredService<ConcurrentQueue<ProjectQuotaChanged>>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (seen.Count < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"saw {seen.Count} of {count} ProjectQuotaChanged events within 30 s");
                await Task.Delay(100);
            }
            return [.. seen];
        }

        public async Task<QuotaLimitsSnapshot> SnapshotAsync(params string[] resources)
        {
            var client = _services.GetRequiredService<IBus>().CreateRequestClient<GetQuotaLimits>(RequestTimeout.After(s: 30));
            return (await client.GetResponse<QuotaLimitsSnapshot>(new GetQuotaLimits(resources))).Message;
        }

        public async ValueTask DisposeAsync()
        {
            await _services.GetRequiredService<IBusControl>().StopAsync();
            await _services.DisposeAsync();
        }
    }

    private sealed class RecordLimitEvents(ConcurrentQueue<ProjectQuotaChanged> seen) : IConsumer<ProjectQuotaChanged>
    {
        public Task Consume(ConsumeContext<ProjectQuotaChanged> context)
        {
            seen.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
