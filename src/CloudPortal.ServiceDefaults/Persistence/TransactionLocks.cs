using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace CloudPortal.ServiceDefaults.Persistence;

/// <summary>Locks that serialize decisions about one thing (a project's quota, a server group) until the transaction ends.</summary>
public static class TransactionLocks
{
    /// <summary>
    /// Waits for the lock on <paramref name="key"/> inside the current transaction. PostgreSQL: a transaction-scoped
    /// advisory lock (released at commit or rollback). SQLite: nothing to do, because Microsoft.Data.Sqlite begins
    /// transactions IMMEDIATE, so write transactions already run one at a time.
    /// </summary>
    public static async Task LockAsync(this DatabaseFacade database, Guid key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (!database.IsNpgsql())
            return;
        var bytes = key.ToByteArray();
        var id = BitConverter.ToInt64(bytes, 0) ^ BitConverter.ToInt64(bytes, 8);
        await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({id})", cancellationToken);
    }

    /// <summary>A new transaction that holds the lock on <paramref name="key"/> (<see cref="LockAsync"/>) until it ends.</summary>
    public static async Task<IDbContextTransaction> BeginLockedAsync(this DatabaseFacade database, Guid key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var transaction = await database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await database.LockAsync(key, cancellationToken).ConfigureAwait(false);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
