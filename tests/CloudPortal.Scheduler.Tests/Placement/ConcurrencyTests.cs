using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>
/// Distributed mode: several scheduler instances (each its own service provider, DbContexts and connections) place
/// instances on the same database at once. Claims must never over-commit a host.
/// </summary>
[Collection(typeof(ConcurrencyTests))]
[CollectionDefinition(DisableParallelization = true)]   // heavy: alone, so that other tests do not starve it (or it them)
public sealed class ConcurrencyTests(ITestOutputHelper output)
{
    private const int Instances = 4;
    private const int RequestsPerInstance = 500;
    private const int WorkersPerInstance = 4;
    private static readonly PlacementResources Flavor = new(1, 1024, 10);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Four_schedulers_times_500_requests_on_hosts_that_hold_300_make_exactly_300_claims(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await AddHostsThatHoldThreeHundredAsync(database);
        var project = Guid.NewGuid();
        long conflicts = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SchedulerMetrics.MeterName && instrument.Name == "cloudportal.scheduler.claim_conflicts")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref conflicts, value));
        listener.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, Instances).Select(async _ =>
        {
            var instance = database.Instance(o => o.HostSubsetSize = 3);
            var results = new List<PlacementOutcome>();
            await Parallel.ForEachAsync(Enumerable.Range(0, RequestsPerInstance), new ParallelOptions { MaxDegreeOfParallelism = WorkersPerInstance }, async (_, ct) =>
            {
                await using var scope = instance.CreateAsyncScope();
                var outcome = await scope.ServiceProvider.GetRequiredService<PlacementService>()
                    .SelectAsync(new PlacementRequest(Guid.NewGuid(), project, Flavor), ct);
                lock (results)
                    results.Add(outcome);
            });
            return results;
        }));

        var all = outcomes.SelectMany(o => o).ToList();
        output.WriteLine($"{provider}: {all.Count} requests in {clock.Elapsed.TotalSeconds:F1}s, {Interlocked.Read(ref conflicts)} generation conflicts retried");
        Assert.Equal(Instances * RequestsPerInstance, all.Count);
        Assert.Equal(300, all.Count(o => o.Selected is not null));
        // Full hosts, or (rarely) every candidate taken by concurrent claims until the request gave up.
        Assert.All(all.Where(o => o.Unschedulable is not null), o => Assert.Matches("^(no host has|the hosts that could take this instance were all claimed)", o.Unschedulable!.Reason));

        await database.WithDbAsync(async db =>
        {
            var nodes = await db.ComputeNodes.AsNoTracking().ToListAsync();
            var allocations = await db.Allocations.AsNoTracking().ToListAsync();
            Assert.Equal(300, allocations.Count);
            Assert.Equal(all.Where(o => o.Selected is not null).Select(o => o.Selected!.ConsumerId).Order(), allocations.Select(a => a.ConsumerId).Order());
            foreach (var node in nodes)
            {
                var mine = allocations.Where(a => a.Host == node.Host).ToList();
                // The usage columns are exactly the sum of the allocation rows ...
                Assert.Equal((mine.Sum(a => a.VCpus), mine.Sum(a => a.MemoryMb), mine.Sum(a => a.DiskGb), mine.Count),
                    (node.UsedVCpus, node.UsedMemoryMb, node.UsedDiskGb, node.InstanceCount));
                // ... and never more than (total − reserved) × ratio.
                Assert.True(mine.Sum(a => a.VCpus) <= node.Inventory(ResourceClass.VCpu).Capacity, $"{node.Host} over its vCPU capacity");
                Assert.True(mine.Sum(a => a.MemoryMb) <= node.Inventory(ResourceClass.MemoryMb).Capacity, $"{node.Host} over its RAM capacity");
                Assert.True(mine.Sum(a => a.DiskGb) <= node.Inventory(ResourceClass.DiskGb).Capacity, $"{node.Host} over its disk capacity");
                Assert.Equal(30, mine.Count);
            }
        });
    }

    [Theory]
    [InlineData("sqlite", ServerGroupPolicies.AntiAffinity)]
    [InlineData("postgres", ServerGroupPolicies.AntiAffinity)]
    [InlineData("sqlite", ServerGroupPolicies.Affinity)]
    [InlineData("postgres", ServerGroupPolicies.Affinity)]
    public async Task Members_of_one_server_group_placed_at_once_by_four_schedulers_keep_its_policy(string provider, string policy)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        for (var i = 0; i < 8; i++)
            await database.AddNodeAsync($"node-{i}", 64, 262144, 4000);
        var group = Guid.NewGuid();
        const int members = 16;

        // Every request carries Compute's view of the group as it was before any of them: no member placed yet.
        var schedulers = Enumerable.Range(0, Instances).Select(_ => database.Instance(o => o.HostSubsetSize = 8)).ToList();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, members).Select(async i =>
        {
            await using var scope = schedulers[i % Instances].CreateAsyncScope();
            var request = PlacementRequest.From(new SelectHosts(Guid.NewGuid(), Guid.NewGuid(), Flavor, ServerGroup: new ServerGroupPlacement(group, policy, [])));
            return await scope.ServiceProvider.GetRequiredService<PlacementService>().SelectAsync(request);
        }));

        var hosts = outcomes.Where(o => o.Selected is not null).Select(o => o.Selected!.Host).ToList();
        if (policy == ServerGroupPolicies.AntiAffinity)
        {
            Assert.Equal(8, hosts.Count);
            Assert.Equal(8, hosts.Distinct().Count());   // one member per host, whatever the interleaving
            // The others learn why (or, rarely, that concurrent claims kept taking their candidates).
            Assert.All(outcomes.Where(o => o.Selected is null), o => Assert.Matches(
                "^(every available host already runs a member of this server group \\(anti-affinity, 8 hosts\\)|the hosts that could take this instance were all claimed)", o.Unschedulable!.Reason));
        }
        else
        {
            Assert.Equal(members, hosts.Count);
            Assert.Single(hosts.Distinct());   // every member with the first
        }
        var recorded = await database.WithDbAsync(db => db.Allocations.AsNoTracking().Where(a => a.ServerGroupId == group).Select(a => a.Host).ToListAsync());
        Assert.Equal(hosts.Order(), recorded.Order());
    }

    /// <summary>Ten hosts of 30 instances each, each limited by something else: RAM, vCPUs × ratio, reserved RAM, disk.</summary>
    private static async Task AddHostsThatHoldThreeHundredAsync(SchedulerDatabase database)
    {
        for (var i = 0; i < 6; i++)
            await database.AddNodeAsync($"ram-{i}", 32, 30 * 1024, 1000);
        await database.AddNodeAsync("cpu-0", 6, 65536, 1000, n => n.SetAllocationRatios(5.0, null, null));
        await database.AddNodeAsync("cpu-1", 10, 65536, 1000, n => n.SetAllocationRatios(3.0, null, null));
        await database.AddNodeAsync("reserved-0", 32, 32768, 1000, n => n.SetReserved(null, 2048, null));
        await database.AddNodeAsync("disk-0", 32, 65536, 300);
    }
}
