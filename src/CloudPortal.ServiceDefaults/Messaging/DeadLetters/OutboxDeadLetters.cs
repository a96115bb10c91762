using System.Globalization;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CloudPortal.ServiceDefaults.Messaging.DeadLetters;

/// <summary>
/// The outbox rows the relay set aside (<see cref="OutboxMessage.FailedAt"/>) in every module database this process
/// hosts. Replay clears the mark, so the relay tries the row again (and sets it aside again if it still cannot be
/// published); discard deletes the row.
/// </summary>
public sealed class OutboxDeadLetters(IEnumerable<ModuleDatabase> databases, IServiceScopeFactory scopes, IConfiguration configuration) : IDeadLetterSource
{
    private const string Prefix = "outbox:";

    public bool Owns(string id) => id.StartsWith(Prefix, StringComparison.Ordinal);

    public async Task<IReadOnlyList<DeadLetterDetail>> ListAsync(CancellationToken cancellationToken)
    {
        var found = new List<DeadLetterDetail>();
        foreach (var database in databases)
        {
            var rows = await WithOutboxAsync(database, outbox => outbox.AsNoTracking().Where(m => m.FailedAt != null).OrderBy(m => m.Sequence).ToListAsync(cancellationToken),
                cancellationToken).ConfigureAwait(false);
            found.AddRange((rows ?? []).Select(row => View(database.Module, row)));
        }
        return found;
    }

    public Task<DeadLetterOutcome> ReplayAsync(string id, CancellationToken cancellationToken) =>
        ChangeAsync(id, async (outbox, sequence) => await outbox.Where(m => m.Sequence == sequence && m.FailedAt != null)
            .ExecuteUpdateAsync(set => set.SetProperty(m => m.FailedAt, (DateTime?)null).SetProperty(m => m.LastError, (string?)null), cancellationToken)
            .ConfigureAwait(false), cancellationToken);

    public Task<DeadLetterOutcome> DiscardAsync(string id, CancellationToken cancellationToken) =>
        ChangeAsync(id, async (outbox, sequence) => await outbox.Where(m => m.Sequence == sequence && m.FailedAt != null)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false), cancellationToken);

    private async Task<DeadLetterOutcome> ChangeAsync(string id, Func<DbSet<OutboxMessage>, long, Task<int>> change, CancellationToken cancellationToken)
    {
        var parts = id.Split(':');
        if (parts.Length != 3 || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || databases.FirstOrDefault(d => d.Module == parts[1]) is not { } database)
            return DeadLetterOutcome.NotFound;
        var changed = await WithOutboxAsync(database, outbox => change(outbox, sequence), cancellationToken).ConfigureAwait(false);
        return changed > 0 ? DeadLetterOutcome.Done : DeadLetterOutcome.NotFound;
    }

    private static DeadLetterDetail View(string module, OutboxMessage row) => new(new DeadLetterView(
        $"{Prefix}{module}:{row.Sequence.ToString(CultureInfo.InvariantCulture)}",
        $"outbox:{module}",
        row.MessageType,
        row.MessageId,
        row.LastError ?? "set aside by the outbox relay",
        row.FailedAt!.Value,
        row.Destination ?? "publish"), row.Body);

    /// <summary>
    /// Runs <paramref name="action"/> on a module's outbox; null when that database is not there (a SQLite file never
    /// created, a PostgreSQL database of a module deployed elsewhere): a look must not create it.
    /// </summary>
    private async Task<T?> WithOutboxAsync<T>(ModuleDatabase database, Func<DbSet<OutboxMessage>, Task<T>> action, CancellationToken cancellationToken)
    {
        var options = configuration.GetCloudPortalOptions();
        if (options.Database.Provider == DatabaseProvider.Sqlite && !File.Exists(ModuleConnections.SqlitePath(options, database.Module)))
            return default;
        await using var scope = scopes.CreateAsyncScope();
        var db = (IModuleDbContext)scope.ServiceProvider.GetRequiredService(database.ContextType);
        try
        {
            return await action(db.Outbox).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.UndefinedTable)
        {
            return default;
        }
    }
}
