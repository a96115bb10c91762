using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>Placement over the bus: request/response through the real consumers, migrations and database.</summary>
public sealed class PlacementConsumerTests
{
    private static readonly PlacementResources Small = new(2, 4096, 20);

    private static async Task<(ServiceProvider Instance, ITestHarness Harness)> StartAsync(SchedulerDatabase database)
    {
        var instance = database.Instance(o => o.HostSubsetSize = 1, s => s.AddMassTransitTestHarness(bus =>
        {
            bus.AddConsumer<SelectHostsConsumer>(typeof(SelectHostsConsumerDefinition));
            bus.AddConsumer<CheckFitConsumer>(typeof(CheckFitConsumerDefinition));
            bus.AddConsumer<ReleaseAllocationConsumer>(typeof(ReleaseAllocationConsumerDefinition));
        }));
        var harness = instance.GetRequiredService<ITestHarness>();
        await harness.Start();
        return (instance, harness);
    }

    private static async Task<Response<HostsSelected, NoValidHost>> SelectAsync(ITestHarness harness, SelectHosts request) =>
        await harness.GetRequestClient<SelectHosts>().GetResponse<HostsSelected, NoValidHost>(request);

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_request_gets_a_claimed_primary_and_alternates_and_a_release_frees_it(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        await database.AddNodeAsync("node-2", 8, 32768, 200);
        await database.AddNodeAsync("node-3", 8, 65536, 200);
        var (_, harness) = await StartAsync(database);
        var consumer = Guid.NewGuid();

        var response = await SelectAsync(harness, new SelectHosts(consumer, Guid.NewGuid(), Small));

        Assert.True(response.Is(out Response<HostsSelected>? selected));
        Assert.Equal(new HostsSelected(consumer, "node-3", ["node-2", "node-1"], Small), selected!.Message with { Alternates = selected.Message.Alternates.ToList() }, HostsSelectedComparer);
        Assert.Equal(4096, (await database.NodeAsync("node-3")).UsedMemoryMb);

        // Asking again (a redelivery) answers the same claim and claims nothing more.
        var again = await SelectAsync(harness, new SelectHosts(consumer, Guid.NewGuid(), Small));
        Assert.True(again.Is(out Response<HostsSelected>? same));
        Assert.Equal("node-3", same!.Message.Host);
        Assert.Equal(1, (await database.NodeAsync("node-3")).InstanceCount);

        var released = await harness.GetRequestClient<ReleaseAllocation>().GetResponse<AllocationReleased>(new ReleaseAllocation(consumer));
        Assert.Equal(new AllocationReleased(consumer, "node-3", Small), released.Message);
        Assert.Equal(0, (await database.NodeAsync("node-3")).UsedMemoryMb);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_resize_replaces_the_claim_and_a_reschedule_moves_it_off_the_avoided_host(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 8, 16384, 200);
        await database.AddNodeAsync("node-2", 8, 12288, 200);
        var (_, harness) = await StartAsync(database);
        var consumer = Guid.NewGuid();
        var project = Guid.NewGuid();
        await SelectAsync(harness, new SelectHosts(consumer, project, Small));       // node-1: most free RAM

        var resized = await SelectAsync(harness, new SelectHosts(consumer, project, new PlacementResources(4, 16384, 40), Resize: true));

        Assert.True(resized.Is(out Response<HostsSelected>? bigger));
        Assert.Equal(("node-1", new PlacementResources(4, 16384, 40)), (bigger!.Message.Host, bigger.Message.Claimed));
        Assert.Equal((16384L, 1), ((await database.NodeAsync("node-1")).UsedMemoryMb, (await database.NodeAsync("node-1")).InstanceCount));

        var moved = await SelectAsync(harness, new SelectHosts(consumer, project, Small, AvoidHosts: ["node-1"]));

        Assert.True(moved.Is(out Response<HostsSelected>? elsewhere));
        Assert.Equal("node-2", elsewhere!.Message.Host);
        Assert.Equal(0L, (await database.NodeAsync("node-1")).UsedMemoryMb);
        Assert.Equal(4096L, (await database.NodeAsync("node-2")).UsedMemoryMb);
        Assert.Equal("node-2", (await database.WithDbAsync(db => db.Allocations.SingleAsync())).Host);
    }

    public static TheoryData<string> Scenarios => ["capacity", "zone", "anti-affinity", "disabled"];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Unschedulable_answers_carry_per_filter_counts_and_a_sentence(string scenario)
    {
        await using var database = await SchedulerDatabase.CreateAsync("sqlite");
        await database.AddNodeAsync("a1", 16, 16384, 500, n => { n.MoveToZone("az-1"); n.SetReserved(null, 8192, null); });
        await database.AddNodeAsync("a2", 16, 8192, 500, n => n.MoveToZone("az-1"));
        await database.AddNodeAsync("b1", 16, 65536, 500, n => n.MoveToZone("az-2"));
        if (scenario == "disabled")
        {
            await database.WithDbAsync(async db =>
            {
                await HostAdministration.DisableAsync(db, "a1", "maintenance");
                await HostAdministration.DisableAsync(db, "a2", "maintenance");
            });
        }
        var (_, harness) = await StartAsync(database);
        var request = scenario switch
        {
            "capacity" => new SelectHosts(Guid.NewGuid(), Guid.NewGuid(), new PlacementResources(2, 16384, 20), "az-1"),
            "zone" => new SelectHosts(Guid.NewGuid(), Guid.NewGuid(), Small, "az-3"),
            "anti-affinity" => new SelectHosts(Guid.NewGuid(), Guid.NewGuid(), Small, "az-1",
                new ServerGroupPlacement(Guid.NewGuid(), ServerGroupPolicies.AntiAffinity, ["a1", "a2", "b1"])),
            _ => new SelectHosts(Guid.NewGuid(), Guid.NewGuid(), Small, "az-1"),
        };

        var response = await SelectAsync(harness, request);

        Assert.True(response.Is(out Response<NoValidHost>? answer));
        var noValidHost = answer!.Message;
        Assert.Equal(request.ConsumerId, noValidHost.ConsumerId);
        Assert.Equal(3, noValidHost.HostsConsidered);
        var removed = noValidHost.Filters.Where(f => f.Removed > 0).ToDictionary(f => f.Filter, f => (f.HostsBefore, f.Removed, string.Join("; ", f.Reasons)));
        var (expectedRemoved, sentence) = scenario switch
        {
            "capacity" => (new Dictionary<string, (int, int, string)>
            {
                ["AvailabilityZoneFilter"] = (3, 1, "zone: 1"),
                ["CapacityFilter"] = (2, 2, "ram: 2"),
            }, "no host in az-1 has 16384 MB RAM free: largest free is 8192 MB"),
            "zone" => (new Dictionary<string, (int, int, string)>
            {
                ["AvailabilityZoneFilter"] = (3, 3, "zone: 3"),
            }, "there is no host in availability zone az-3: choose one of az-1 or az-2"),
            "anti-affinity" => (new Dictionary<string, (int, int, string)>
            {
                ["AvailabilityZoneFilter"] = (3, 1, "zone: 1"),
                ["ServerGroupAntiAffinityFilter"] = (2, 2, "with_group: 2"),
            }, "every available host in az-1 already runs a member of this server group (anti-affinity, 2 hosts): use a soft-anti-affinity group or fewer members"),
            _ => (new Dictionary<string, (int, int, string)>
            {
                ["AvailabilityZoneFilter"] = (3, 1, "zone: 1"),
                ["EnabledAndUpFilter"] = (2, 2, "disabled: 2"),
            }, "no host in az-1 is accepting new instances (2 disabled): try another availability zone or ask your administrator"),
        };
        Assert.Equal(expectedRemoved, removed);
        Assert.Equal(sentence, noValidHost.Reason);
        Assert.Equal(8, noValidHost.Filters.Count);
        Assert.Equal(3, noValidHost.Hosts.Count);
        Assert.False(await database.WithDbAsync(db => db.Allocations.AnyAsync()));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Fit_check_counts_each_flavor_on_the_free_capacity_now(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 4, 16384, 200, n => n.MoveToZone("az-1"));
        await database.AddNodeAsync("node-2", 4, 8192, 200, n => n.MoveToZone("az-1"));
        await database.AddNodeAsync("node-3", 64, 262144, 2000, n => n.MoveToZone("az-2"));
        await database.AddNodeAsync("node-4", 64, 262144, 2000, n => { n.MoveToZone("az-1"); n.Disable("maintenance"); });
        var (instance, harness) = await StartAsync(database);
        await using (var scope = instance.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<ClaimService>().ClaimAsync(Guid.NewGuid(), Guid.NewGuid(), "node-1", new PlacementResources(2, 8192, 20));
        var project = Guid.NewGuid();

        var report = await harness.GetRequestClient<CheckFit>().GetResponse<FitReport>(new CheckFit(project, "az-1",
        [
            new FlavorToFit("m1.small", new PlacementResources(1, 2048, 20)),
            new FlavorToFit("m1.large", new PlacementResources(4, 8192, 80)),
            new FlavorToFit("m1.xlarge", new PlacementResources(8, 16384, 160)),
        ]));

        Assert.Equal((project, "az-1"), (report.Message.ProjectId, report.Message.AvailabilityZone));
        Assert.Equal(
        [
            new FlavorFit("m1.small", 4 + 4, null),       // node-1: 8192 MB free → 4; node-2: 8192 MB → 4
            new FlavorFit("m1.large", 1 + 1, null),
            new FlavorFit("m1.xlarge", 0, "no host in az-1 has 16384 MB RAM free: largest free is 8192 MB"),
        ], report.Message.Flavors);
        Assert.Equal(1, await database.WithDbAsync(db => db.Allocations.CountAsync()));
    }

    private static readonly IEqualityComparer<HostsSelected> HostsSelectedComparer = EqualityComparer<HostsSelected>.Create(
        (a, b) => a!.ConsumerId == b!.ConsumerId && a.Host == b.Host && a.Alternates.SequenceEqual(b.Alternates) && a.Claimed == b.Claimed,
        s => s.ConsumerId.GetHashCode());
}
