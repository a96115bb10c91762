using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Hosts;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Hosts;

public sealed class HostAdministrationTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Reports_update_totals_but_never_what_an_admin_set(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await using var instance = database.Instance(services: s =>
            s.AddMassTransitTestHarness(bus =>
            {
                // The admin changes between the reports take a while; the harness must not call it a day meanwhile.
                bus.SetTestTimeouts(testTimeout: TimeSpan.FromMinutes(2), testInactivityTimeout: TimeSpan.FromSeconds(30));
                bus.AddConsumer<ComputeNodeReportedConsumer>(typeof(ComputeNodeReportedConsumerDefinition));
            }));
        var harness = instance.GetRequiredService<ITestHarness>();
        await harness.Start();
        var t0 = DateTimeOffset.UtcNow;
        await Report(harness, "node-1", t0, vCpus: 8);

        await database.WithDbAsync(async db =>
        {
            await HostAdministration.SetAllocationRatiosAsync(db, "node-1", 8.0, 1.5, null);
            await HostAdministration.SetReservedAsync(db, "node-1", 1, 2048, 10);
            await HostAdministration.MoveToZoneAsync(db, "node-1", "az-1");
            await HostAdministration.DisableAsync(db, "node-1", "disk swap");
        });
        var beforeReport = await database.NodeAsync("node-1");
        await Report(harness, "node-1", t0.AddSeconds(30), vCpus: 16);

        var node = await database.NodeAsync("node-1");
        Assert.Equal(16, node.VCpus);
        Assert.Equal((8.0, 1.5, 1.0), (node.CpuAllocationRatio, node.RamAllocationRatio, node.DiskAllocationRatio));
        Assert.Equal((1, 2048L, 10L), (node.ReservedVCpus, node.ReservedMemoryMb, node.ReservedDiskGb));
        Assert.Equal(("az-1", false, "disk swap"), (node.AvailabilityZone, node.Enabled, node.DisabledReason));
        Assert.True(node.Generation > beforeReport.Generation, "a change of totals is a change of capacity");
        Assert.Equal((16 - 1) * 8, node.Inventory(ResourceClass.VCpu).Capacity);

        await database.WithDbAsync(db => HostAdministration.EnableAsync(db, "node-1"));
        Assert.Equal((true, (string?)null), ((await database.NodeAsync("node-1")).Enabled, (await database.NodeAsync("node-1")).DisabledReason));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Admin_changes_and_claims_on_one_host_do_not_lose_each_other(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);
        await database.AddNodeAsync("node-1", 64, 262144, 2000);

        var claims = Enumerable.Range(0, 20).Select(async _ =>
        {
            await using var scope = database.Instance().CreateAsyncScope();
            var claimService = scope.ServiceProvider.GetRequiredService<ClaimService>();
            var consumer = Guid.NewGuid();
            // 25 writers on one row: a claim may lose its attempts to the others (Contended); placement then tries
            // the next candidate, here the same host again. What must never happen is a claim or a ratio lost.
            ClaimResult claim;
            do
                claim = await claimService.ClaimAsync(consumer, Guid.NewGuid(), "node-1", new PlacementResources(1, 1024, 1));
            while (claim.Status == ClaimStatus.Contended);
            Assert.Equal(ClaimStatus.Claimed, claim.Status);
            return claim;
        }).ToList();
        var ratios = Enumerable.Range(0, 5).Select(i => database.WithDbAsync(db => HostAdministration.SetAllocationRatiosAsync(db, "node-1", 2.0 + i, null, null)));
        await Task.WhenAll(claims.Cast<Task>().Concat(ratios));

        var node = await database.NodeAsync("node-1");
        Assert.Equal(20, node.UsedVCpus);
        Assert.Equal(20, node.InstanceCount);
        Assert.InRange(node.CpuAllocationRatio, 2.0, 6.0);
    }

    [Theory]
    [InlineData("sqlite")]
    public async Task Unknown_hosts_are_reported_as_such(string provider)
    {
        await using var database = await SchedulerDatabase.CreateAsync(provider);

        var error = await Assert.ThrowsAsync<HostNotFoundException>(() => database.WithDbAsync(db => HostAdministration.EnableAsync(db, "nope")));

        Assert.Equal("no compute host named 'nope' has reported to the scheduler", error.Message);
    }

    [Fact]
    public void Ratios_must_be_positive_and_reasons_given()
    {
        var node = ComputeNode.Register(ComputeNodeTests.Report("node-1", DateTimeOffset.UtcNow));

        Assert.Equal("the CPU allocation ratio must be above 0 and at most 1000, not 0", Assert.Throws<ArgumentException>(() => node.SetAllocationRatios(0, null, null)).Message);
        Assert.Throws<ArgumentException>(() => node.SetAllocationRatios(null, double.NaN, null));
        Assert.Throws<ArgumentException>(() => node.SetAllocationRatios(null, null, 1001));
        Assert.Throws<ArgumentException>(() => node.SetReserved(-1, null, null));
        Assert.Throws<ArgumentException>(() => node.Disable(" "));
        Assert.Equal((4.0, 1.0, 1.0, true), (node.CpuAllocationRatio, node.RamAllocationRatio, node.DiskAllocationRatio, node.Enabled));
    }

    private static async Task Report(ITestHarness harness, string host, DateTimeOffset at, int vCpus)
    {
        await harness.Bus.Publish(new ComputeNodeReported(host, vCpus, 16384, 200, "QEMU", "7.2.0", "x86_64", "libvirt", false, at));
        Assert.True(await harness.Consumed.Any<ComputeNodeReported>(m => m.Context.Message.ReportedAt == at && m.Exception is null));
    }
}
