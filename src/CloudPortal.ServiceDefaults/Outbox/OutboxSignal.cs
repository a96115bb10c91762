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

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await Volatile.Read(ref _pulse).Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
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
        if (context?.Database.CurrentTransaction?.GetDbTransaction() is { } transaction
            && context.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added))
            _pending.AddOrUpdate(transaction, this);
    }

    private void Notify(DbContext? context)
    {
        // Inside an explicit transaction the rows are not visible yet: the commit pulses (above).
        if (context is not null && context.Database.CurrentTransaction is null)
            signal.Pulse();
    }
}
