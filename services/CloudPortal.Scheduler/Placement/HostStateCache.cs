using CloudPortal.Scheduler.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Placement;

/// <summary>The hosts a decision works from, and whether they were read from the database for this decision.</summary>
public sealed record HostView(IReadOnlyList<HostState> Hosts, bool Fresh);

/// <summary>
/// The scheduler's in-memory view of every host, as Nova's host manager keeps one, so that a decision does not read
/// every host's row. It is a hint, never the truth: a claim commits only against the provider's current generation in
/// the database (see <see cref="Allocations.ClaimService"/>), so a stale entry costs a retry, never an over-commit.
/// It follows this process's own claims at once; it is read again in the background once older than
/// <see cref="SchedulerOptions.HostStateMaxAge"/> (other schedulers' claims, reports, admin changes), and before use
/// once ten times older; and a placement that finds no host in it asks for a fresh read before saying so.
/// </summary>
public sealed partial class HostStateCache(IServiceScopeFactory scopes, IOptions<SchedulerOptions> options, TimeProvider time, ILogger<HostStateCache> log)
{
    private readonly SchedulerOptions _options = options.Value;
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;
    private Task? _refreshing;

    /// <summary>
    /// The hosts as cached, or as read now with <paramref name="db"/> when <paramref name="fresh"/> is asked for or the
    /// cache is empty or too old. Whether a host is up is judged at this moment, from its last heartbeat.
    /// </summary>
    public async ValueTask<HostView> GetAsync(SchedulerDbContext db, bool fresh, CancellationToken cancellationToken = default)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        var age = snapshot is null ? TimeSpan.MaxValue : time.GetElapsedTime(snapshot.ReadAt);
        var loaded = fresh || age > _options.HostStateMaxAge * 10;
        if (loaded)
            snapshot = await LoadAsync(db, cancellationToken);
        else if (age > _options.HostStateMaxAge || snapshot!.Stale)
            RefreshInBackground();
        return new HostView(WithLiveness(snapshot!.Hosts), loaded);
    }

    /// <summary>Takes in a provider as a claim left it (a newer generation than the cached one wins; aggregates stay).</summary>
    public void Update(HostState provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (_gate)
        {
            if (_snapshot is not { } snapshot || !snapshot.Index.TryGetValue(provider.Host, out var i) || snapshot.Hosts[i].Generation > provider.Generation)
                return;
            var hosts = snapshot.Hosts.ToArray();
            hosts[i] = provider with { Aggregates = hosts[i].Aggregates };
            _snapshot = snapshot with { Hosts = hosts };
        }
    }

    /// <summary>Something changed that the cache cannot follow by itself (a release, a report, an admin change): read again soon.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            if (_snapshot is { } snapshot)
                _snapshot = snapshot with { Stale = true };
        }
    }

    private async Task<Snapshot> LoadAsync(SchedulerDbContext db, CancellationToken cancellationToken)
    {
        var readAt = time.GetTimestamp();
        var hosts = await HostSnapshot.LoadAsync(db, time.GetUtcNow().UtcDateTime, _options.NodeDownAfter, cancellationToken);
        return Publish(hosts, readAt);
    }

    // A read that started before one of our claims committed must not undo what the claim taught us: per host, the
    // higher generation wins (generations only grow).
    private Snapshot Publish(IReadOnlyList<HostState> read, long readAt)
    {
        lock (_gate)
        {
            var hosts = read.ToArray();
            if (_snapshot is { } current)
            {
                for (var i = 0; i < hosts.Length; i++)
                {
                    if (current.Index.TryGetValue(hosts[i].Host, out var j) && current.Hosts[j].Generation > hosts[i].Generation)
                        hosts[i] = current.Hosts[j] with { Aggregates = hosts[i].Aggregates };
                }
            }
            var index = new Dictionary<string, int>(hosts.Length, StringComparer.Ordinal);
            for (var i = 0; i < hosts.Length; i++)
                index[hosts[i].Host] = i;
            var snapshot = new Snapshot(hosts, index, readAt);
            if (_snapshot is null || _snapshot.ReadAt <= readAt)
                _snapshot = snapshot;
            return snapshot;
        }
    }

    private void RefreshInBackground()
    {
        lock (_gate)
        {
            if (_refreshing is { IsCompleted: false })
                return;
            _refreshing = Task.Run(async () =>
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await LoadAsync(scope.ServiceProvider.GetRequiredService<SchedulerDbContext>(), CancellationToken.None);
                }
                catch (Exception ex)
                {
                    // The next decision tries again; until then the cached view (checked by every claim) serves.
                    LogRefreshFailed(log, ex);
                }
            });
        }
    }

    // Up is a function of time, not of the row: a host whose reports stopped goes down in the cache too.
    private IReadOnlyList<HostState> WithLiveness(HostState[] hosts)
    {
        var now = time.GetUtcNow().UtcDateTime;
        HostState[]? changed = null;
        for (var i = 0; i < hosts.Length; i++)
        {
            var up = now - hosts[i].LastHeartbeatAt <= _options.NodeDownAfter;
            if (up == hosts[i].Up)
                continue;
            changed ??= (HostState[])hosts.Clone();
            changed[i] = hosts[i] with { Up = up };
        }
        return changed ?? hosts;
    }

    private sealed record Snapshot(HostState[] Hosts, Dictionary<string, int> Index, long ReadAt)
    {
        public bool Stale { get; init; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the scheduler's host cache; the cached view serves until the next try")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
