using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CloudPortal.Scheduler.Allocations;

public enum ClaimStatus
{
    /// <summary>The resources are now held on the host.</summary>
    Claimed,

    /// <summary>The consumer already held a claim (a redelivered request); nothing changed.</summary>
    AlreadyHeld,

    /// <summary>The host cannot take it: not enough room, disabled, or unknown.</summary>
    Rejected,

    /// <summary>Other claims kept changing the host; gave up after the configured attempts.</summary>
    Contended,
}

/// <param name="Provider">The host as the claim last saw it (after its own change when it claimed), for the scheduler's cache.</param>
public sealed record ClaimResult(ClaimStatus Status, string Host, PlacementResources? Resources, string? Reason = null, HostState? Provider = null)
{
    public bool Succeeded => Status is ClaimStatus.Claimed or ClaimStatus.AlreadyHeld;
}

public enum ReleaseStatus
{
    Released,
    NotHeld,
}

public sealed record ReleaseResult(ReleaseStatus Status, string? Host, PlacementResources? Resources);

/// <summary>The server group a consumer joins: its allocation records the group, and a strict policy is checked when claiming.</summary>
public sealed record ServerGroupRule(Guid GroupId, string Policy)
{
    public bool Strict => Policy is ServerGroupPolicies.Affinity or ServerGroupPolicies.AntiAffinity;
}

/// <summary>
/// Claims, replaces and releases allocations. A claim reads the provider row (usage and generation in one read; or
/// takes them from the scheduler's cache on its first attempt), checks the room in code, then in one transaction runs
/// <c>UPDATE compute_nodes SET used = …, generation = @g + 1 WHERE host = @h AND generation = @g</c>
/// and writes the allocation row (one batch for a new claim). If another claim, release, report or admin change moved the generation in
/// between, the UPDATE matches no row, the transaction rolls back and the claim starts again from a fresh read.
/// So the usage a claim checked is the usage it commits against, on SQLite and PostgreSQL alike, however many
/// schedulers run.
/// </summary>
public sealed class ClaimService(SchedulerDbContext db, TimeProvider time, IOptions<SchedulerOptions> options)
{
    private readonly int _attempts = Math.Max(1, options.Value.ClaimAttempts);
    private readonly TimeSpan _downAfter = options.Value.NodeDownAfter;

    /// <summary>
    /// Claims <paramref name="resources"/> for a consumer that holds nothing; answers the existing claim otherwise (the
    /// allocation's key makes a second claim for one consumer fail atomically). <paramref name="known"/> is the host as
    /// the caller last saw it (the scheduler's cache): the first attempt commits against its generation without reading
    /// the row again; if the host moved on since, the attempt fails the generation check and the row is read.
    /// </summary>
    public Task<ClaimResult> ClaimAsync(Guid consumerId, Guid projectId, string host, PlacementResources resources, HostState? known = null,
        ServerGroupRule? group = null, CancellationToken cancellationToken = default) =>
        WriteAsync(consumerId, projectId, host, resources, replace: false, known, group, cancellationToken);

    /// <summary>
    /// Replaces whatever the consumer holds with <paramref name="resources"/> on <paramref name="host"/> (a resize, or a
    /// move to another host), atomically: on the same host only the difference has to fit.
    /// </summary>
    public Task<ClaimResult> ReplaceAsync(Guid consumerId, Guid projectId, string host, PlacementResources resources, ServerGroupRule? group = null,
        CancellationToken cancellationToken = default) =>
        WriteAsync(consumerId, projectId, host, resources, replace: true, known: null, group, cancellationToken);

    public async Task<ReleaseResult> ReleaseAsync(Guid consumerId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var held = await FindAsync(consumerId, cancellationToken);
            if (held is null)
                return new ReleaseResult(ReleaseStatus.NotHeld, null, null);
            try
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                // Giving back can never over-commit, so this UPDATE is relative and needs no generation check;
                // it still moves the generation so that claims working from the old usage start again.
                await Adjust(held.Host, -held.VCpus, -held.MemoryMb, -held.DiskGb, -1, cancellationToken);
                var deleted = await Matching(held).ExecuteDeleteAsync(cancellationToken);
                if (deleted == 0)
                {
                    // Released or replaced concurrently: look again.
                    await transaction.RollbackAsync(CancellationToken.None);
                    if (attempt >= _attempts)
                        throw new InvalidOperationException($"the allocation of {consumerId} changed {attempt} times while releasing it");
                    continue;
                }
                await transaction.CommitAsync(cancellationToken);
                return new ReleaseResult(ReleaseStatus.Released, held.Host, held.Resources);
            }
            catch (Exception ex) when (IsTransient(ex) && attempt < _attempts)
            {
                db.ChangeTracker.Clear();
                await Backoff(attempt, cancellationToken);
            }
        }
    }

    private async Task<ClaimResult> WriteAsync(Guid consumerId, Guid projectId, string host, PlacementResources resources, bool replace, HostState? known,
        ServerGroupRule? group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(resources);
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            db.ChangeTracker.Clear();
            var held = replace ? await FindAsync(consumerId, cancellationToken) : null;
            var provider = attempt == 1 && known is not null && known.Host == host ? known : await ReadAsync(host, cancellationToken);
            if (provider is null)
                return new ClaimResult(ClaimStatus.Rejected, host, null, "unknown host");
            if (!provider.Enabled)
                return new ClaimResult(ClaimStatus.Rejected, host, null, $"disabled: {provider.DisabledReason}", provider);

            var sameHost = held is not null && held.Host == host;
            var credit = sameHost ? held!.Resources : new PlacementResources(0, 0, 0);
            if (Shortfall(provider, resources, credit) is { } shortfall)
                return new ClaimResult(ClaimStatus.Rejected, host, null, shortfall, provider);

            try
            {
                var claimed = held is null
                    ? await InsertAsync(consumerId, projectId, provider, resources, group, cancellationToken)
                    : await MoveAsync(held, provider, resources, credit, sameHost, group, cancellationToken);
                if (claimed is not null)
                    return claimed;
                // The allocation moved under a replace: look again.
            }
            catch (DbUpdateConcurrencyException)
            {
                // Someone else changed the host since it was read: read again and re-check.
                SchedulerMetrics.ClaimConflicts.Add(1);
                db.ChangeTracker.Clear();
                if (provider != known)
                    await Backoff(attempt, cancellationToken);
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                db.ChangeTracker.Clear();
                await Backoff(attempt, cancellationToken);
            }
            catch (DbUpdateException) when (held is null)
            {
                // The consumer already holds a claim (a redelivered request, or a concurrent delivery that inserted
                // first): the key refused the second one and the transaction rolled back; answer with the first.
                db.ChangeTracker.Clear();
                if (await FindAsync(consumerId, CancellationToken.None) is { } winner)
                    return new ClaimResult(ClaimStatus.AlreadyHeld, winner.Host, winner.Resources);
                throw;
            }
        }
        return new ClaimResult(ClaimStatus.Contended, host, null, $"the host changed {_attempts} times while claiming");
    }

    /// <summary>
    /// A new claim in one batch: the provider's UPDATE, made only where the generation is still the one the usage was
    /// read at (EF's concurrency token; a miss throws <see cref="DbUpdateConcurrencyException"/>), and the allocation's
    /// INSERT. A strict group rule takes its lock and looks at the group first, in the same transaction.
    /// </summary>
    private async Task<ClaimResult?> InsertAsync(Guid consumerId, Guid projectId, HostState provider, PlacementResources resources, ServerGroupRule? group,
        CancellationToken cancellationToken)
    {
        await using var transaction = group is { Strict: true } ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (transaction is not null && await BrokenGroupRuleAsync(group!, consumerId, provider.Host, cancellationToken) is { } broken)
            return new ClaimResult(ClaimStatus.Rejected, provider.Host, null, broken, provider);
        var after = After(provider, resources, new PlacementResources(0, 0, 0), sameHost: false);
        var node = db.ComputeNodes.Attach(new ComputeNode { Host = provider.Host, HypervisorType = "", CapacitySource = "" });
        node.Property(n => n.Generation).OriginalValue = provider.Generation;
        Set(n => n.Generation, after.Generation);
        Set(n => n.UsedVCpus, (int)after.VCpu.Used);
        Set(n => n.UsedMemoryMb, after.MemoryMb.Used);
        Set(n => n.UsedDiskGb, after.DiskGb.Used);
        Set(n => n.InstanceCount, after.InstanceCount);
        var now = time.GetUtcNow().UtcDateTime;
        db.Allocations.Add(new Allocation
        {
            ConsumerId = consumerId, ProjectId = projectId, Host = provider.Host,
            VCpus = resources.VCpus, MemoryMb = resources.MemoryMb, DiskGb = resources.DiskGb,
            ServerGroupId = group?.GroupId, CreatedAt = now, UpdatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
            await transaction.CommitAsync(cancellationToken);
        return new ClaimResult(ClaimStatus.Claimed, provider.Host, resources, Provider: after);

        void Set<T>(System.Linq.Expressions.Expression<Func<ComputeNode, T>> property, T value)
        {
            var column = node.Property(property);
            column.CurrentValue = value;
            column.IsModified = true;
        }
    }

    /// <summary>A resize or a move: the consumer's allocation changes host or amounts, with both providers' usage, at once.</summary>
    private async Task<ClaimResult?> MoveAsync(Allocation held, HostState provider, PlacementResources resources, PlacementResources credit, bool sameHost,
        ServerGroupRule? group, CancellationToken cancellationToken)
    {
        var host = provider.Host;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (group is { Strict: true } && await BrokenGroupRuleAsync(group, held.ConsumerId, host, cancellationToken) is { } broken)
            return new ClaimResult(ClaimStatus.Rejected, host, null, broken, provider);
        var generation = provider.Generation;
        var updated = await db.ComputeNodes
            .Where(n => n.Host == host && n.Generation == generation)
            .ExecuteUpdateAsync(s => s
                .SetProperty(n => n.UsedVCpus, n => n.UsedVCpus + resources.VCpus - credit.VCpus)
                .SetProperty(n => n.UsedMemoryMb, n => n.UsedMemoryMb + resources.MemoryMb - credit.MemoryMb)
                .SetProperty(n => n.UsedDiskGb, n => n.UsedDiskGb + resources.DiskGb - credit.DiskGb)
                .SetProperty(n => n.InstanceCount, n => n.InstanceCount + (sameHost ? 0 : 1))
                .SetProperty(n => n.Generation, n => n.Generation + 1), cancellationToken);
        if (updated == 0)
            throw new DbUpdateConcurrencyException($"{host} changed since it was read");
        var now = time.GetUtcNow().UtcDateTime;
        var moved = await Matching(held).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.Host, host)
            .SetProperty(a => a.VCpus, resources.VCpus)
            .SetProperty(a => a.MemoryMb, resources.MemoryMb)
            .SetProperty(a => a.DiskGb, resources.DiskGb)
            .SetProperty(a => a.UpdatedAt, now), cancellationToken);
        if (moved == 0)
            return null;   // released or replaced concurrently; the transaction rolls back
        if (!sameHost)
            await Adjust(held.Host, -held.VCpus, -held.MemoryMb, -held.DiskGb, -1, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ClaimResult(ClaimStatus.Claimed, host, resources, Provider: After(provider, resources, credit, sameHost));
    }

    /// <summary>Why the host cannot take <paramref name="wanted"/> (after giving back <paramref name="credit"/>), or null when it can.</summary>
    public static string? Shortfall(HostState host, PlacementResources wanted, PlacementResources credit)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(wanted);
        ArgumentNullException.ThrowIfNull(credit);
        var shortfalls = new List<string>();
        Check(host.VCpu, wanted.VCpus, credit.VCpus, "vCPUs");
        Check(host.MemoryMb, wanted.MemoryMb, credit.MemoryMb, "MB RAM");
        Check(host.DiskGb, wanted.DiskGb, credit.DiskGb, "GB disk");
        return shortfalls.Count == 0 ? null : string.Join("; ", shortfalls);

        void Check(ResourceInventory inventory, long amount, long given, string unit)
        {
            var after = inventory with { Used = inventory.Used - given };
            if (!after.Fits(amount))
                shortfalls.Add($"{amount} {unit} requested, {after.Free} free");
        }
    }

    /// <summary>
    /// Checks a strict group policy against the group's claimed members, under a lock on the group
    /// (<see cref="TransactionLocks"/>), so that two members claimed at once cannot both break it (the filters work
    /// from Compute's view of the group, which a concurrent sibling is not in yet).
    /// </summary>
    private async Task<string?> BrokenGroupRuleAsync(ServerGroupRule group, Guid consumerId, string host, CancellationToken cancellationToken)
    {
        await db.Database.LockAsync(group.GroupId, cancellationToken);
        var hosts = await db.Allocations.Where(a => a.ServerGroupId == group.GroupId && a.ConsumerId != consumerId)
            .Select(a => a.Host).Distinct().ToListAsync(cancellationToken);
        if (group.Policy == ServerGroupPolicies.AntiAffinity && hosts.Contains(host))
            return "anti-affinity: another member of the server group was placed on this host";
        if (group.Policy == ServerGroupPolicies.Affinity && hosts.FirstOrDefault(h => h != host) is { } other)
            return $"affinity: the server group's members are on {other}";
        return null;
    }

    // The provider as the committed UPDATE left it: what the scheduler's cache learns from a claim.
    private static HostState After(HostState provider, PlacementResources resources, PlacementResources credit, bool sameHost) => provider with
    {
        VCpu = provider.VCpu with { Used = provider.VCpu.Used + resources.VCpus - credit.VCpus },
        MemoryMb = provider.MemoryMb with { Used = provider.MemoryMb.Used + resources.MemoryMb - credit.MemoryMb },
        DiskGb = provider.DiskGb with { Used = provider.DiskGb.Used + resources.DiskGb - credit.DiskGb },
        InstanceCount = provider.InstanceCount + (sameHost ? 0 : 1),
        Generation = provider.Generation + 1,
    };

    private async Task<HostState?> ReadAsync(string host, CancellationToken cancellationToken) =>
        await db.ComputeNodes.AsNoTracking().SingleOrDefaultAsync(n => n.Host == host, cancellationToken) is { } node
            ? HostState.From(node, [], time.GetUtcNow().UtcDateTime, _downAfter)
            : null;

    private Task<Allocation?> FindAsync(Guid consumerId, CancellationToken cancellationToken) =>
        db.Allocations.AsNoTracking().SingleOrDefaultAsync(a => a.ConsumerId == consumerId, cancellationToken);

    // The allocation exactly as read: a concurrent replace or release makes this match nothing.
    private IQueryable<Allocation> Matching(Allocation held) =>
        db.Allocations.Where(a => a.ConsumerId == held.ConsumerId && a.Host == held.Host
            && a.VCpus == held.VCpus && a.MemoryMb == held.MemoryMb && a.DiskGb == held.DiskGb);

    private Task<int> Adjust(string host, int vCpus, long memoryMb, long diskGb, int instances, CancellationToken cancellationToken) =>
        db.ComputeNodes.Where(n => n.Host == host).ExecuteUpdateAsync(s => s
            .SetProperty(n => n.UsedVCpus, n => n.UsedVCpus + vCpus)
            .SetProperty(n => n.UsedMemoryMb, n => n.UsedMemoryMb + memoryMb)
            .SetProperty(n => n.UsedDiskGb, n => n.UsedDiskGb + diskGb)
            .SetProperty(n => n.InstanceCount, n => n.InstanceCount + instances)
            .SetProperty(n => n.Generation, n => n.Generation + 1), cancellationToken);

    /// <summary>Deadlocks and serialization failures (PostgreSQL) and a busy database (SQLite) are worth another try.</summary>
    public static bool IsTransient(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
                return true;
            if (e is SqliteException { SqliteErrorCode: 5 or 6 })   // SQLITE_BUSY, SQLITE_LOCKED
                return true;
        }
        return false;
    }

    // A little jitter so that claims that collided do not collide again in lockstep.
    private static Task Backoff(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(0, Math.Min(50, 2 << Math.Min(attempt, 5)))), cancellationToken);
}
