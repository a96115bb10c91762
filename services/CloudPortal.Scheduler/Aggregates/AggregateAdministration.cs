using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Aggregates;

/// <summary>Admin changes to host aggregates (the admin API and CLI build on these).</summary>
public static class AggregateAdministration
{
    public static async Task<Aggregate> CreateAsync(SchedulerDbContext db, string name, IReadOnlyDictionary<string, string>? metadata, DateTime now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (await db.Aggregates.AnyAsync(a => a.Name == name, cancellationToken))
            throw new InvalidOperationException($"an aggregate named '{name}' exists already");
        var aggregate = new Aggregate { Name = name.Trim(), CreatedAt = now, Metadata = new(metadata ?? new Dictionary<string, string>(), StringComparer.Ordinal) };
        db.Aggregates.Add(aggregate);
        await db.SaveChangesAsync(cancellationToken);
        return aggregate;
    }

    /// <summary>Sets keys (a null value removes the key).</summary>
    public static async Task<Aggregate> SetMetadataAsync(SchedulerDbContext db, string name, IReadOnlyDictionary<string, string?> changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var aggregate = await FindAsync(db, name, cancellationToken);
        var metadata = new Dictionary<string, string>(aggregate.Metadata, StringComparer.Ordinal);
        foreach (var (key, value) in changes)
        {
            if (value is null)
                metadata.Remove(key);
            else
                metadata[key] = value;
        }
        aggregate.Metadata = metadata;
        await db.SaveChangesAsync(cancellationToken);
        return aggregate;
    }

    public static async Task AddHostAsync(SchedulerDbContext db, string name, string host, CancellationToken cancellationToken = default)
    {
        var aggregate = await FindAsync(db, name, cancellationToken);
        if (!await db.ComputeNodes.AnyAsync(n => n.Host == host, cancellationToken))
            throw new Hosts.HostNotFoundException(host);
        if (aggregate.Hosts.Any(h => h.Host == host))
            return;
        aggregate.Hosts.Add(new AggregateHost { AggregateId = aggregate.Id, Host = host });
        await db.SaveChangesAsync(cancellationToken);
    }

    public static async Task RemoveHostAsync(SchedulerDbContext db, string name, string host, CancellationToken cancellationToken = default)
    {
        var aggregate = await FindAsync(db, name, cancellationToken);
        aggregate.Hosts.RemoveAll(h => h.Host == host);
        await db.SaveChangesAsync(cancellationToken);
    }

    public static async Task DeleteAsync(SchedulerDbContext db, string name, CancellationToken cancellationToken = default)
    {
        db.Aggregates.Remove(await FindAsync(db, name, cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
    }

    public static async Task<IReadOnlyList<Aggregate>> ListAsync(SchedulerDbContext db, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(db);
        var aggregates = await db.Aggregates.AsNoTracking().Include(a => a.Hosts).ToListAsync(cancellationToken);
        return aggregates.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
    }

    private static async Task<Aggregate> FindAsync(SchedulerDbContext db, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.Aggregates.Include(a => a.Hosts).SingleOrDefaultAsync(a => a.Name == name, cancellationToken)
            ?? throw new InvalidOperationException($"no aggregate named '{name}'");
    }
}
