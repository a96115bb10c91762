using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>
/// The limits Identity holds, cached in an owner module's own database so the owner can enforce them in its own
/// transaction. Fed by <see cref="ProjectQuotaChanged"/> events and by a snapshot (<see cref="GetQuotaLimits"/>) at
/// start-up and every <see cref="QuotaLimitCacheOptions.ResyncInterval"/>. Every write keeps the newest value by
/// Identity's <c>ChangedAt</c>, so redelivered, reordered and late events never undo a newer change.
/// </summary>
public static class QuotaLimitCache
{
    /// <summary>Serializes the cache's writers (events and snapshots) in one database; readers take no lock.</summary>
    private static readonly Guid WriteLock = new("b3a0e6f1-2c4d-4f8a-8e1b-7d5c9a2f6e03");

    /// <summary>Maps <see cref="CachedQuotaLimit"/> to <paramref name="table"/>: key (ProjectId, Resource).</summary>
    public static ModelBuilder MapQuotaLimits(this ModelBuilder modelBuilder, string table = "quota_limits")
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<CachedQuotaLimit>(limit =>
        {
            limit.ToTable(table);
            limit.HasKey(l => new { l.ProjectId, l.Resource });
            limit.Property(l => l.Resource).HasMaxLength(64);
        });
        return modelBuilder;
    }

    /// <summary>
    /// The limit in force: the project's override, else the cached default, else <see cref="QuotaResources.Defaults"/>
    /// (an owner that has not heard from Identity yet).
    /// </summary>
    public static async Task<long> LimitAsync(this IQuotaLimitStore db, Guid projectId, string resource, CancellationToken cancellationToken) =>
        (await db.LimitsAsync(projectId, [resource], cancellationToken).ConfigureAwait(false))[resource];

    /// <summary>The limit in force for each of <paramref name="resources"/>, read in one query.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> LimitsAsync(this IQuotaLimitStore db, Guid projectId,
        IReadOnlyCollection<string> resources, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(resources);
        var names = resources.Distinct(StringComparer.Ordinal).ToList();
        foreach (var resource in names)
            EnsureKnown(resource, nameof(resources));
        var rows = await db.QuotaLimits.AsNoTracking()
            .Where(l => names.Contains(l.Resource) && !l.Removed && (l.ProjectId == projectId || l.ProjectId == Guid.Empty))
            .Select(l => new { l.ProjectId, l.Resource, l.Limit })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return names.ToDictionary(r => r, r =>
            rows.FirstOrDefault(l => l.Resource == r && l.ProjectId == projectId && projectId != Guid.Empty)?.Limit
            ?? rows.FirstOrDefault(l => l.Resource == r && l.ProjectId == Guid.Empty)?.Limit
            ?? QuotaResources.Defaults[r], StringComparer.Ordinal);
    }

    /// <summary>
    /// Caches the limits of <paramref name="resources"/> for one owner module (<paramref name="owner"/>, e.g. <c>images</c>)
    /// in <typeparamref name="TContext"/>: a <see cref="ProjectQuotaChanged"/> consumer on its own queue
    /// <c>{owner}-quota-limits</c> (so every owner gets every event), inbox-deduplicated; and a hosted service that asks
    /// Identity for a snapshot (<see cref="GetQuotaLimits"/>) once the host has started, retrying with backoff until
    /// Identity answers, then every <c>CloudPortal:Quotas:ResyncInterval</c>.
    /// </summary>
    public static IHostApplicationBuilder AddQuotaLimitCache<TContext>(this IHostApplicationBuilder builder, string owner, params string[] resources)
        where TContext : DbContext, IQuotaLimitStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(owner);
        if (resources is null || resources.Length == 0)
            throw new ArgumentException("Name at least one quota resource to cache.", nameof(resources));
        foreach (var resource in resources)
            EnsureKnown(resource, nameof(resources));
        if (builder.Services.Any(s => s.ServiceType == typeof(QuotaLimitFeed<TContext>)))
            throw new InvalidOperationException($"AddQuotaLimitCache<{typeof(TContext).Name}> was called twice; name every resource in one call.");

        var feed = new QuotaLimitFeed<TContext>(owner, resources.Distinct(StringComparer.Ordinal).ToArray());
        builder.Services.AddSingleton(feed);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<QuotaLimitCacheOptions>().BindConfiguration(QuotaLimitCacheOptions.Section)
            .Validate(o => o.ResyncInterval > TimeSpan.Zero, "CloudPortal:Quotas:ResyncInterval must be longer than zero");
        builder.Services.AddHostedService<QuotaLimitResync<TContext>>();
        // One consumer type per owner context, on a queue named after the owner: MassTransit would otherwise derive
        // one name from the generic type, and owners in different processes would compete for one queue.
        builder.AddConsumers(bus => bus.AddConsumer<QuotaLimitConsumer<TContext>>(typeof(QuotaLimitConsumerDefinition<TContext>))
            .Endpoint(endpoint => endpoint.Name = feed.QueueName));
        return builder;
    }

    /// <summary>Applies one event, inside the caller's transaction: older than the cached value, it changes nothing.</summary>
    internal static async Task ApplyAsync<TContext>(TContext db, ProjectQuotaChanged message, CancellationToken cancellationToken)
        where TContext : DbContext, IQuotaLimitStore
    {
        await db.Database.LockAsync(WriteLock, cancellationToken).ConfigureAwait(false);
        var project = message.ProjectId ?? Guid.Empty;
        var changedAt = Stamp(message.ChangedAt);
        var row = await db.QuotaLimits.SingleOrDefaultAsync(l => l.ProjectId == project && l.Resource == message.Resource, cancellationToken)
            .ConfigureAwait(false);
        if (row is null)
        {
            // A removal is kept as a tombstone even when there was nothing to remove: a late, older "set" must not win.
            row = new CachedQuotaLimit { ProjectId = project, Resource = message.Resource };
            db.QuotaLimits.Add(row);
        }
        else if (row.ChangedAt > changedAt)
        {
            return;
        }
        (row.Limit, row.Removed, row.ChangedAt) = (message.Limit, message.OverrideRemoved, changedAt);
    }

    /// <summary>
    /// Replaces the cached limits of <paramref name="resources"/> with a snapshot, except rows changed after the snapshot
    /// was read (their event is newer). Overrides the snapshot lacks become tombstones. Every row it vouches for takes
    /// the snapshot's time, so an event older than the snapshot, arriving late, is recognised as stale.
    /// </summary>
    /// <returns>How many cached limits changed value (added, altered, removed).</returns>
    internal static async Task<int> ApplySnapshotAsync<TContext>(TContext db, IReadOnlyCollection<string> resources, QuotaLimitsSnapshot snapshot,
        CancellationToken cancellationToken)
        where TContext : DbContext, IQuotaLimitStore
    {
        var readAt = Stamp(snapshot.ReadAt);
        var wanted = new Dictionary<(Guid, string), long>();
        var answered = new List<string>();
        foreach (var limit in snapshot.Defaults ?? [])
        {
            if (!resources.Contains(limit.Resource))
                continue;
            wanted[(Guid.Empty, limit.Resource)] = limit.Limit;
            answered.Add(limit.Resource);
        }
        foreach (var limit in snapshot.Overrides ?? [])
        {
            if (resources.Contains(limit.Resource) && limit.ProjectId != Guid.Empty)
                wanted[(limit.ProjectId, limit.Resource)] = limit.Limit;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await db.Database.LockAsync(WriteLock, cancellationToken).ConfigureAwait(false);
        var names = resources.ToList();
        var rows = await db.QuotaLimits.Where(l => names.Contains(l.Resource))
            .ToDictionaryAsync(l => (l.ProjectId, l.Resource), cancellationToken).ConfigureAwait(false);
        var changed = 0;
        foreach (var ((project, resource), limit) in wanted)
        {
            if (!rows.TryGetValue((project, resource), out var row))
            {
                db.QuotaLimits.Add(new CachedQuotaLimit { ProjectId = project, Resource = resource, Limit = limit, ChangedAt = readAt });
                changed++;
            }
            else if (row.ChangedAt <= readAt && (row.Removed || row.Limit != limit))
            {
                (row.Limit, row.Removed, row.ChangedAt) = (limit, false, readAt);
                changed++;
            }
        }
        foreach (var row in rows.Values)
        {
            if (row.ProjectId != Guid.Empty && !row.Removed && row.ChangedAt <= readAt && !wanted.ContainsKey((row.ProjectId, row.Resource)))
            {
                (row.Removed, row.ChangedAt) = (true, readAt);
                changed++;
            }
        }
        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        // The rows the snapshot confirmed unchanged take its time too, in one statement rather than one per row.
        await db.QuotaLimits
            .Where(l => names.Contains(l.Resource) && l.ChangedAt < readAt && (l.ProjectId != Guid.Empty || answered.Contains(l.Resource)))
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.ChangedAt, readAt), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changed;
    }

    /// <summary>UTC, truncated to what PostgreSQL keeps (microseconds), so a stored time compares equal to the one it came from.</summary>
    internal static DateTime Stamp(DateTimeOffset at) => new(at.UtcTicks - (at.UtcTicks % 10), DateTimeKind.Utc);

    private static void EnsureKnown(string resource, string parameter)
    {
        if (resource is null || !QuotaResources.Defaults.ContainsKey(resource))
            throw new ArgumentException($"'{resource}' is not a quota resource; known: {string.Join(", ", QuotaResources.Defaults.Keys)}.", parameter);
    }
}

/// <summary>What one owner caches: its name (the queue <c>{owner}-quota-limits</c>, the inbox's consumer name) and resources.</summary>
internal sealed record QuotaLimitFeed<TContext>(string Owner, IReadOnlyList<string> Resources)
{
    public string QueueName => $"{Owner}-quota-limits";

    public bool Covers(string? resource) => resource is not null && Resources.Contains(resource, StringComparer.Ordinal);
}
