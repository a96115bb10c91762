using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CloudPortal.ServiceDefaults.Persistence;

/// <summary>
/// SQLite takes a database's one write lock at BEGIN (Microsoft.Data.Sqlite begins transactions IMMEDIATE). A second
/// writer that finds it taken is left to Microsoft.Data.Sqlite, which puts its thread to sleep for 150 ms per try: every
/// contended write costs at least 150 ms, and a burst of them (a hundred launches, their events) blocks thread-pool
/// threads the bus needs to deliver the answers the writers wait for. So writers of one process queue here, awaiting
/// their turn without a thread, before they BEGIN; and every connection gets SQLite's own busy handler (short sleeps
/// from 1 ms) for what is left: another process's writers and writes outside a transaction.
/// </summary>
public sealed class SqliteWriteGate : IDbConnectionInterceptor, IDbTransactionInterceptor
{
    // One turn per database file in this process, as SQLite has one write lock per file.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _files = new(StringComparer.Ordinal);

    // The turn each connection holds, until its transaction ends or, at the latest, the connection closes: a
    // transaction disposed without a commit or rollback ends with no callback of its own.
    private readonly ConditionalWeakTable<DbConnection, Turn> _held = new();

    // Committed or rolled-back transactions no longer name their connection.
    private readonly ConditionalWeakTable<DbTransaction, DbConnection> _owners = new();

    public void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => SetBusyTimeout(connection);

    public Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        SetBusyTimeout(connection);
        return Task.CompletedTask;
    }

    public InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        var file = File(connection);
        if (!file.Wait(Timeout(connection)))
            throw Locked(connection);
        Hold(connection, file);
        return result;
    }

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
        InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default)
    {
        var file = File(connection);
        if (!await file.WaitAsync(Timeout(connection), cancellationToken).ConfigureAwait(false))
            throw Locked(connection);
        Hold(connection, file);
        return result;
    }

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        _owners.AddOrUpdate(result, connection);
        return result;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result,
        CancellationToken cancellationToken = default) => ValueTask.FromResult(TransactionStarted(connection, eventData, result));

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Ended(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(transaction);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Ended(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData)
    {
        // A failed commit or rollback leaves the transaction open until it is disposed, and its connection closed.
        if (transaction.Connection is null)
            Ended(transaction);
    }

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    private void Ended(DbTransaction transaction)
    {
        if (_owners.TryGetValue(transaction, out var connection))
        {
            _owners.Remove(transaction);
            Release(connection);
        }
    }

    private void Hold(DbConnection connection, SemaphoreSlim file)
    {
        // A turn still held by this connection was its own earlier transaction, gone without an end: give it back.
        Release(connection);
        _held.AddOrUpdate(connection, new Turn(this, connection, file));
    }

    private void Release(DbConnection connection)
    {
        if (_held.TryGetValue(connection, out var turn) && _held.Remove(connection))
            turn.Release();
    }

    private SemaphoreSlim File(DbConnection connection) =>
        _files.GetOrAdd(Path.GetFullPath(((SqliteConnection)connection).DataSource), _ => new SemaphoreSlim(1, 1));

    private static TimeSpan Timeout(DbConnection connection) => TimeSpan.FromSeconds(((SqliteConnection)connection).DefaultTimeout);

    private static void SetBusyTimeout(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle } sqlite)
            SQLitePCL.raw.sqlite3_busy_timeout(handle, checked(sqlite.DefaultTimeout * 1000));
    }

    // What SQLite itself answers when its lock stays taken, so callers that retry a busy database retry this too.
    private static SqliteException Locked(DbConnection connection) =>
        new($"SQLite Error 5: 'database is locked' (another transaction of this process held '{((SqliteConnection)connection).DataSource}' for {Timeout(connection).TotalSeconds:0} s).", 5);

    private sealed class Turn
    {
        private readonly SqliteWriteGate _gate;
        private readonly DbConnection _connection;
        private readonly SemaphoreSlim _file;
        private int _released;

        public Turn(SqliteWriteGate gate, DbConnection connection, SemaphoreSlim file)
        {
            (_gate, _connection, _file) = (gate, connection, file);
            // Closing (and so disposing) ends any transaction: whoever closes it, EF or not, the turn is over.
            connection.StateChange += Closed;
        }

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0)
                return;
            _connection.StateChange -= Closed;
            _file.Release();
        }

        private void Closed(object? sender, System.Data.StateChangeEventArgs e)
        {
            if (e.CurrentState == System.Data.ConnectionState.Closed)
                _gate.Release(_connection);
        }
    }
}
