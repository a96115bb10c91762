using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CloudPortal.ServiceDefaults.Outbox;

/// <summary>
/// Wakes a module's relay as soon as a transaction that wrote outbox rows to its database commits, instead of waiting
/// for the next poll. Each database has its own pulse: a launch's commit in Compute wakes Compute's relay, not the
/// relays of every module in the process, which would each look for rows for nothing.
/// </summary>
public sealed class OutboxSignal
{
    private readonly ConcurrentDictionary<Type, Waiters> _pulses = new();

    /// <summary>Wakes every relay of the process: for rows written without EF's change tracker seeing them.</summary>
    public void Pulse()
    {
        foreach (var pulse in _pulses.Values)
            pulse.Fire();
    }

    /// <summary>Wakes the relay of the database <paramref name="context"/> writes to.</summary>
    public void Pulse(DbContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var type = context.GetType();
        foreach (var (relayed, pulse) in _pulses)
            if (relayed.IsAssignableFrom(type))
                pulse.Fire();
    }

    /// <summary>
    /// The next pulse for the relay of <typeparamref name="TContext"/>. A relay takes it before it looks for rows, so a
    /// pulse while it looks is not missed.
    /// </summary>
    public Task Next<TContext>() where TContext : DbContext => _pulses.GetOrAdd(typeof(TContext), _ => new Waiters()).Next;

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

    private sealed class Waiters
    {
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Next => Volatile.Read(ref _next).Task;

        public void Fire() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}

/// <summary>
/// Pulses <see cref="OutboxSignal"/> once outbox rows are visible to the relay: after a save that added them, or, for a
/// save inside an explicit transaction, after that transaction commits (the quota lock of a launch, an inbox-guarded
/// consumer), so no message waits for the relay's next poll.
/// </summary>
public sealed class OutboxSaveChangesInterceptor(OutboxSignal signal) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    // Transactions that wrote outbox rows and have not committed yet, with the context that wrote them.
    private readonly ConditionalWeakTable<DbTransaction, DbContext> _pending = new();

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
        if (_pending.TryGetValue(transaction, out var context) && _pending.Remove(transaction))
            signal.Pulse(context);
    }

    private void Remember(DbContext? context)
    {
        if (context is null || !context.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added))
            return;
        // Inside an explicit transaction the rows are not visible until it commits: the commit pulses (above).
        if (context.Database.CurrentTransaction?.GetDbTransaction() is { } transaction)
            _pending.AddOrUpdate(transaction, context);
        else
            _adding.AddOrUpdate(context, this);
    }

    private void Notify(DbContext? context)
    {
        if (context is not null && _adding.Remove(context))
            signal.Pulse(context);
    }
}
