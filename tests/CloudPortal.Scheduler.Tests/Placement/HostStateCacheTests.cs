using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>
/// The scheduler's cached view of the hosts is a hint: whatever changed behind its back (another scheduler's claims,
/// a host added or disabled by another process), a placement neither over-commits nor turns a tenant away.
/// </summary>
public sealed class HostStateCacheTests
{
    private static readonly PlacementResources Small = new(1, 1024, 10);

    private static async Task<PlacementOutcome> PlaceAsync(ServiceProvider scheduler, PlacementResources resources)
    {
        await using var scope = scheduler.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PlacementService>().SelectAsync(new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), resources));
    }

    private static async Task<HostState> CachedAsync(ServiceProvider scheduler, string host)
    {
        await using var scope = scheduler.CreateAsyncScope();
        var view = await scheduler.GetRequiredService<HostStateCache>().GetAsync(scope.ServiceProvider.GetRequiredService<SchedulerDbContext>(), fresh: false);
        return view.Hosts.Single(h => h.Host == host);
    }

    // Long enough that nothing is refreshed behind the test's back unless it says so.
    private static ServiceProvider Scheduler(SchedulerDatabase database, TimeSpan? maxAge = null) =>
        database.Instance(o =>
        {
            o.HostSubsetSize = 1;
            o.HostStateMaxAge = maxAge ?? TimeSpan.FromHours(1);
        });

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task The_cache_follows_its_own_claims_exactly(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        var scheduler = Scheduler(database);

        for (var i = 0; i < 3; i++)
            Assert.Equal("node-1", (await PlaceAsync(scheduler, Small)).Selected!.Host);

        var cached = await CachedAsync(scheduler, "node-1");
        var stored = await database.NodeAsync("node-1");
        Assert.Equal((stored.UsedVCpus, stored.UsedMemoryMb, stored.UsedDiskGb, stored.InstanceCount, stored.Generation),
            (cached.VCpu.Used, cached.MemoryMb.Used, cached.DiskGb.Used, cached.InstanceCount, cached.Generation));
        Assert.Equal((3L, 3072L, 3), (cached.VCpu.Used, cached.MemoryMb.Used, cached.InstanceCount));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Claims_by_another_scheduler_behind_the_cache_never_over_commit(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 4, 8192, 100, n => n.SetAllocationRatios(1.0, null, null));   // room for 4 Small (vCPUs)
        var scheduler = Scheduler(database);
        var other = Scheduler(database);
        Assert.Equal("node-1", (await PlaceAsync(scheduler, Small)).Selected!.Host);   // its cache: 3 more fit

        for (var i = 0; i < 3; i++)
            Assert.NotNull((await PlaceAsync(other, Small)).Selected);

        var refused = await PlaceAsync(scheduler, Small);
        Assert.Null(refused.Selected);
        Assert.Equal("no host has 1 vCPU free: largest free is 0 vCPUs", refused.Unschedulable!.Reason);
        var node = await database.NodeAsync("node-1");
        Assert.Equal((4, 4096L), (node.UsedVCpus, node.UsedMemoryMb));
        Assert.Equal(4, await database.WithDbAsync(db => db.Allocations.CountAsync()));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_host_added_after_the_cache_was_read_takes_what_the_cached_hosts_cannot(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("small", 2, 2048, 50);
        var scheduler = Scheduler(database);
        Assert.Equal("small", (await PlaceAsync(scheduler, Small)).Selected!.Host);

        await database.AddNodeAsync("big", 32, 65536, 500);
        var placed = await PlaceAsync(scheduler, new PlacementResources(4, 8192, 40));

        Assert.Equal("big", placed.Selected!.Host);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_host_disabled_by_another_process_after_the_cache_was_read_gets_nothing(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 65536, 200);
        await database.AddNodeAsync("node-2", 8, 16384, 200);
        var scheduler = Scheduler(database);
        Assert.Equal("node-1", (await PlaceAsync(scheduler, Small)).Selected!.Host);   // most free RAM

        // As `cloudportal admin host-disable` does from its own process: the scheduler's cache is not told.
        await database.WithDbAsync(db => HostAdministration.DisableAsync(db, "node-1", "failing disk"));
        var next = await PlaceAsync(scheduler, Small);
        await database.WithDbAsync(db => HostAdministration.DisableAsync(db, "node-2", "maintenance"));
        var none = await PlaceAsync(scheduler, Small);

        Assert.Equal("node-2", next.Selected!.Host);
        Assert.Null(none.Selected);
        Assert.Equal(["disabled: 2"], none.Unschedulable!.Filters.Single(f => f.Filter == "EnabledAndUpFilter").Reasons);
        Assert.Equal(1, (await database.NodeAsync("node-1")).InstanceCount);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task An_old_cache_is_read_again_in_the_background(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        var scheduler = Scheduler(database, maxAge: TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, (await CachedAsync(scheduler, "node-1")).InstanceCount);

        await using (var scope = Scheduler(database).CreateAsyncScope())
            Assert.Equal(ClaimStatus.Claimed, (await scope.ServiceProvider.GetRequiredService<ClaimService>().ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-1", Small)).Status);
        await Task.Delay(TimeSpan.FromMilliseconds(300));

        // The first look after max age still answers from the cache, and starts a read; a later look sees the claim.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HostState seen;
        while ((seen = await CachedAsync(scheduler, "node-1")).InstanceCount == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.Equal((1, 1024L), (seen.InstanceCount, seen.MemoryMb.Used));
    }
}
