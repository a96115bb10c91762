using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Hosts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Allocations;

/// <summary>Claims, resizes and releases against the real migrations on SQLite and PostgreSQL.</summary>
public sealed class ClaimServiceTests
{
    private static readonly PlacementResources Small = new(2, 4096, 20);

    private static async Task<T> Claims<T>(SchedulerDatabase database, Func<ClaimService, Task<T>> action)
    {
        await using var scope = database.Instance().CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ClaimService>());
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_claim_adds_usage_and_moves_the_generation_and_a_release_gives_it_back(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        var before = await database.NodeAsync("node-1");
        var consumer = Guid.NewGuid();

        var claim = await Claims(database, c => c.ClaimAsync(consumer, Guid.NewGuid(), "node-1", Small));

        Assert.Equal(ClaimStatus.Claimed, claim.Status);
        var node = await database.NodeAsync("node-1");
        Assert.Equal((2, 4096L, 20L, 1), (node.UsedVCpus, node.UsedMemoryMb, node.UsedDiskGb, node.InstanceCount));
        Assert.True(node.Generation > before.Generation);
        var allocation = await database.WithDbAsync(db => db.Allocations.SingleAsync());
        Assert.Equal((consumer, "node-1", Small), (allocation.ConsumerId, allocation.Host, allocation.Resources));

        var release = await Claims(database, c => c.ReleaseAsync(consumer));

        Assert.Equal(new ReleaseResult(ReleaseStatus.Released, "node-1", Small), release);
        node = await database.NodeAsync("node-1");
        Assert.Equal((0, 0L, 0L, 0), (node.UsedVCpus, node.UsedMemoryMb, node.UsedDiskGb, node.InstanceCount));
        Assert.False(await database.WithDbAsync(db => db.Allocations.AnyAsync()));
        Assert.Equal(ReleaseStatus.NotHeld, (await Claims(database, c => c.ReleaseAsync(consumer))).Status);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_second_claim_for_the_same_consumer_answers_the_first(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        await database.AddNodeAsync("node-2", 8, 16384, 200);
        var consumer = Guid.NewGuid();

        await Claims(database, c => c.ClaimAsync(consumer, Guid.NewGuid(), "node-1", Small));
        var again = await Claims(database, c => c.ClaimAsync(consumer, Guid.NewGuid(), "node-2", Small));

        Assert.Equal(new ClaimResult(ClaimStatus.AlreadyHeld, "node-1", Small), again);
        Assert.Equal(0, (await database.NodeAsync("node-2")).InstanceCount);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_claim_beyond_capacity_or_on_a_disabled_host_is_rejected(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 1, 4096, 200, n => n.SetAllocationRatios(2.0, null, null));
        await database.AddNodeAsync("node-2", 8, 16384, 200, n => n.Disable("maintenance"));

        var tooBig = await Claims(database, c => c.ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-1", new PlacementResources(3, 1024, 1)));
        var disabled = await Claims(database, c => c.ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-2", Small));
        var unknown = await Claims(database, c => c.ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-9", Small));
        var exactly = await Claims(database, c => c.ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-1", new PlacementResources(2, 4096, 1)));

        Assert.Equal((ClaimStatus.Rejected, "3 vCPUs requested, 2 free"), (tooBig.Status, tooBig.Reason));
        Assert.Equal((ClaimStatus.Rejected, "disabled: maintenance"), (disabled.Status, disabled.Reason));
        Assert.Equal(ClaimStatus.Rejected, unknown.Status);
        Assert.Equal(ClaimStatus.Claimed, exactly.Status);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_resize_on_the_same_host_needs_only_the_difference_to_fit(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 12288, 200);
        var consumer = Guid.NewGuid();
        await Claims(database, c => c.ClaimAsync(consumer, Guid.NewGuid(), "node-1", new PlacementResources(2, 8192, 20)));

        // 12288 MB in all: 8192 → 12288 fits only because the old 8192 is given back.
        var resized = await Claims(database, c => c.ReplaceAsync(consumer, Guid.NewGuid(), "node-1", new PlacementResources(4, 12288, 40)));

        Assert.Equal(ClaimStatus.Claimed, resized.Status);
        var node = await database.NodeAsync("node-1");
        Assert.Equal((4, 12288L, 40L, 1), (node.UsedVCpus, node.UsedMemoryMb, node.UsedDiskGb, node.InstanceCount));
        Assert.Equal(new PlacementResources(4, 12288, 40), (await database.WithDbAsync(db => db.Allocations.SingleAsync())).Resources);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_resize_to_another_host_moves_the_claim_in_one_step(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        await database.AddNodeAsync("node-2", 8, 16384, 200);
        var consumer = Guid.NewGuid();
        await Claims(database, c => c.ClaimAsync(consumer, Guid.NewGuid(), "node-1", Small));

        var moved = await Claims(database, c => c.ReplaceAsync(consumer, Guid.NewGuid(), "node-2", new PlacementResources(4, 8192, 40)));

        Assert.Equal(ClaimStatus.Claimed, moved.Status);
        var (from, to) = (await database.NodeAsync("node-1"), await database.NodeAsync("node-2"));
        Assert.Equal((0, 0L, 0), (from.UsedVCpus, from.UsedMemoryMb, from.InstanceCount));
        Assert.Equal((4, 8192L, 1), (to.UsedVCpus, to.UsedMemoryMb, to.InstanceCount));
        Assert.Equal("node-2", (await database.WithDbAsync(db => db.Allocations.SingleAsync())).Host);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_claim_that_read_a_stale_generation_reads_again_and_rechecks(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 1, 4096, 200, n => n.SetAllocationRatios(1.0, null, null));

        // Many claims for the only vCPU at once: exactly one wins, whatever the interleaving.
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            Claims(database, c => c.ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-1", new PlacementResources(1, 1024, 1)))));

        Assert.Equal(1, results.Count(r => r.Status == ClaimStatus.Claimed));
        Assert.All(results.Where(r => r.Status != ClaimStatus.Claimed), r => Assert.Equal(ClaimStatus.Rejected, r.Status));
        Assert.Equal(1, (await database.NodeAsync("node-1")).UsedVCpus);
    }
}
