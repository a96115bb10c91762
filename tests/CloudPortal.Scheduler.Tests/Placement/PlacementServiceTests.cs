using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Aggregates;
using CloudPortal.Scheduler.Placement;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>Placement against the database: what the snapshot reads (heartbeats, aggregates) reaches the filters.</summary>
public sealed class PlacementServiceTests
{
    private static readonly PlacementResources Small = new(1, 1024, 10);

    private static async Task<PlacementOutcome> PlaceAsync(SchedulerDatabase database, PlacementRequest request)
    {
        await using var scope = database.Instance(o => o.HostSubsetSize = 1).CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PlacementService>().SelectAsync(request);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_node_that_stopped_reporting_is_down_and_gets_no_instance(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("silent", 64, 262144, 2000, reportedAt: DateTimeOffset.UtcNow.AddMinutes(-5));
        await database.AddNodeAsync("alive", 4, 8192, 100);

        var first = await PlaceAsync(database, new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), Small));
        Assert.Equal("alive", first.Selected!.Host);

        var tooBig = await PlaceAsync(database, new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), new PlacementResources(1, 16384, 10)));
        Assert.Equal(["down: 1"], tooBig.Unschedulable!.Filters.Single(f => f.Filter == "EnabledAndUpFilter").Reasons);
        Assert.Equal("no host has 16384 MB RAM free: largest free is 7168 MB", tooBig.Unschedulable.Reason);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_flavor_that_asks_for_aggregate_metadata_lands_only_in_that_aggregate(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("plain", 64, 262144, 2000);
        await database.AddNodeAsync("fast", 8, 16384, 200);
        await database.WithDbAsync(async db =>
        {
            await AggregateAdministration.CreateAsync(db, "ssd-hosts", new Dictionary<string, string> { ["ssd"] = "true" }, DateTime.UtcNow);
            await AggregateAdministration.AddHostAsync(db, "ssd-hosts", "fast");
            await AggregateAdministration.SetMetadataAsync(db, "ssd-hosts", new Dictionary<string, string?> { ["gpu"] = "none", ["ssd"] = "true,nvme" });
        });
        var ssd = new Dictionary<string, string> { ["aggregate_instance_extra_specs:ssd"] = "nvme" };

        var placed = await PlaceAsync(database, new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), Small) { FlavorExtraSpecs = ssd });
        var anywhere = await PlaceAsync(database, new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), Small));

        Assert.Equal("fast", placed.Selected!.Host);
        Assert.Equal("plain", anywhere.Selected!.Host);   // most free RAM
        var aggregates = await database.WithDbAsync(db => AggregateAdministration.ListAsync(db));
        Assert.Equal(("ssd-hosts", "fast", "none"), (aggregates.Single().Name, aggregates.Single().Hosts.Single().Host, aggregates.Single().Metadata["gpu"]));

        await database.WithDbAsync(db => AggregateAdministration.RemoveHostAsync(db, "ssd-hosts", "fast"));
        var nowhere = await PlaceAsync(database, new PlacementRequest(Guid.NewGuid(), Guid.NewGuid(), Small) { FlavorExtraSpecs = ssd });
        Assert.Equal("no host has what this flavor requires (ssd=nvme): choose another flavor or zone", nowhere.Unschedulable!.Reason);
    }
}
