using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CloudPortal.ServiceDefaults.Outbox;

/// <summary>Wakes the relays as soon as a transaction that wrote outbox rows commits, instead of waiting for the next poll.</summary>
public sealed class OutboxSignal
{
    private TaskCompletionSource _pulse = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Pulse() => Interlocked.Exchange(ref _pulse, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>The next pulse. A relay takes it before it looks for rows, so a pulse while it looks is not missed.</summary>
    public Task Next => Volatile.Read(ref _pulse).Task;

    public static async Task WaitAsync(Task pulse, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pulse);
        try
        {
            await pulse.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Polling is the fallback for rows written by another process (several replicas of a module).
        }
    }
}

/// <summary>
/// Pulses <see cref="OutboxSignal"/> once outbox rows are visible to the relay: after a save that added them, or, for a
/// save inside an explicit transaction, after that transaction commits (the quota lock of a launch, an inbox-guarded
/// consumer), so no message waits for the relay's next poll.
/// </summary>
public sealed class OutboxSaveChangesInterceptor(OutboxSignal signal) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    // Transactions that wrote outbox rows and have not committed yet.
    private readonly ConditionalWeakTable<DbTransaction, object> _pending = new();

    // Saves outside a transaction that are adding outbox rows. Only they wake the relays: every other save (the relays'
    // own marks among them) would wake every relay of the process for nothing.
    private readonly ConditionalWeakTable<DbContext, object> _adding = new();

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Remember(eventData.Context);
        return base.SavingChangesAsync(eventData, result, cancellationToken);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Remember(eventData.Context);
        return base.SavingChanges(eventData, result);
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Notify(eventData.Context);
        return base.SavedChangesAsync(eventData, result, cancellationToken);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Notify(eventData.Context);
        return base.SavedChanges(eventData, result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData)
    {
        if (eventData.Context is { } context)
            _adding.Remove(context);
    }

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SaveChangesFailed(eventData);
        return Task.CompletedTask;
    }

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionCommitted(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (_pending.Remove(transaction))
            signal.Pulse();
    }

    private void Remember(DbContext? context)
    {
        if (context is null || !context.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added))
            return;
        // Inside an explicit transaction the rows are not visible until it commits: the commit pulses (above).
        if (context.Database.CurrentTransaction?.GetDbTransaction() is { } transaction)
            _pending.AddOrUpdate(transaction, this);
        else
            _adding.AddOrUpdate(context, this);
    }

    private void Notify(DbContext? context)
    {
        if (context is not null && _adding.Remove(context))
            signal.Pulse();
    }
}
