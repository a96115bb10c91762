using CloudPortal.Contracts.Identity;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Quotas;

/// <summary>
/// The shared quota limit cache on real SQLite and PostgreSQL: whatever order events arrive in, and whatever a snapshot
/// says, the value with the newest time Identity gave it wins. Each check runs after the consumer recorded the
/// message in its inbox, so "nothing changed" means the message was handled and changed nothing.
/// </summary>
public sealed class QuotaLimitCacheTests : IDisposable
{
    private static readonly DateTimeOffset T = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_stale_event_never_overwrites_a_newer_value(string provider)
    {
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        await using var host = await LimitsHost.StartAsync(provider, _dataDir, postgres, new FakeIdentity());
        var project = Guid.NewGuid();
        var other = Guid.NewGuid();

        await host.DeliverAsync(new ProjectQuotaChanged(project, "instances", 5, T.AddSeconds(2)));
        Assert.Equal(5, await host.LimitAsync(project, "instances"));
        await host.DeliverAsync(new ProjectQuotaChanged(project, "instances", 9, T.AddSeconds(1)));
        Assert.Equal(5, await host.LimitAsync(project, "instances"));

        // The override is removed: the project follows the default (here the built-in one, no default is cached)...
        await host.DeliverAsync(new ProjectQuotaChanged(project, "instances", 10, T.AddSeconds(3), OverrideRemoved: true));
        Assert.Equal(10, await host.LimitAsync(project, "instances"));
        var tombstone = await host.RowAsync(project, "instances");
        Assert.True(tombstone!.Removed);
        Assert.Equal(T.AddSeconds(3).UtcDateTime, DateTime.SpecifyKind(tombstone.ChangedAt, DateTimeKind.Utc));
        // ...and a late "set" from before the removal does not bring the override back.
        await host.DeliverAsync(new ProjectQuotaChanged(project, "instances", 4, T.AddSeconds(2.5)));
        Assert.Equal(10, await host.LimitAsync(project, "instances"));

        // The default changes later: the project follows it; an older default change does not undo it.
        await host.DeliverAsync(new ProjectQuotaChanged(null, "instances", 12, T.AddSeconds(5)));
        await host.DeliverAsync(new ProjectQuotaChanged(null, "instances", 11, T.AddSeconds(4)));
        Assert.Equal(12, await host.LimitAsync(project, "instances"));
        Assert.Equal(12, await host.LimitAsync(other, "instances"));

        // A removal delivered before the override it removes (reordered): the removal still wins.
        await host.DeliverAsync(new ProjectQuotaChanged(other, "cores", 20, T.AddSeconds(7), OverrideRemoved: true));
        await host.DeliverAsync(new ProjectQuotaChanged(other, "cores", 3, T.AddSeconds(6)));
        Assert.Equal(QuotaResources.Defaults["cores"], await host.LimitAsync(other, "cores"));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task A_snapshot_replaces_the_cached_limits_except_those_changed_after_it(string provider)
    {
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        // The first request fails (Identity not there yet): the cache asks again.
        var identity = new FakeIdentity { FailFirst = 1 };
        await using var host = await LimitsHost.StartAsync(provider, _dataDir, postgres, identity, resyncInterval: TimeSpan.FromMilliseconds(500));
        var (stale, newer, restored, fresh) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await host.DeliverAsync(new ProjectQuotaChanged(null, "instances", 10, T));
        await host.DeliverAsync(new ProjectQuotaChanged(stale, "instances", 5, T));
        await host.DeliverAsync(new ProjectQuotaChanged(newer, "cores", 7, T.AddMinutes(10)));
        await host.DeliverAsync(new ProjectQuotaChanged(restored, "cores", 20, T, OverrideRemoved: true));

        // Identity, read at T+5min: the stale override is gone (its removal event was lost), the restored one is back,
        // the defaults changed. The change to "newer" at T+10min is not in it.
        var snapshot = new QuotaLimitsSnapshot(
            [new QuotaDefaultLimit("instances", 20), new QuotaDefaultLimit("cores", 30), new QuotaDefaultLimit("images", 1)],
            [new ProjectQuotaLimit(restored, "cores", 4), new ProjectQuotaLimit(fresh, "images", 1)],
            T.AddMinutes(5));
        identity.Snapshot = snapshot;
        await identity.WaitUntilAppliedAsync(snapshot, TimeSpan.FromSeconds(60));
        Assert.True(identity.Faulted >= 1);

        Assert.Equal(20, await host.LimitAsync(stale, "instances"));
        Assert.True((await host.RowAsync(stale, "instances"))!.Removed);
        Assert.Equal(7, await host.LimitAsync(newer, "cores"));
        Assert.Equal(4, await host.LimitAsync(restored, "cores"));
        Assert.Equal(20, await host.LimitAsync(fresh, "instances"));
        Assert.Equal(30, await host.LimitAsync(fresh, "cores"));
        // Resources this owner does not cache are left alone.
        Assert.Null(await host.RowAsync(Guid.Empty, "images"));
        Assert.Null(await host.RowAsync(fresh, "images"));

        // Events older than the snapshot, delivered late, change nothing: the snapshot vouched for every row at its time.
        await host.DeliverAsync(new ProjectQuotaChanged(stale, "instances", 6, T.AddMinutes(1)));
        await host.DeliverAsync(new ProjectQuotaChanged(null, "cores", 31, T.AddMinutes(2)));
        await host.DeliverAsync(new ProjectQuotaChanged(restored, "cores", 9, T.AddMinutes(3)));
        Assert.Equal(20, await host.LimitAsync(stale, "instances"));
        Assert.Equal(30, await host.LimitAsync(fresh, "cores"));
        Assert.Equal(4, await host.LimitAsync(restored, "cores"));
        // A newer one does.
        await host.DeliverAsync(new ProjectQuotaChanged(restored, "cores", 9, T.AddMinutes(6)));
        Assert.Equal(9, await host.LimitAsync(restored, "cores"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
