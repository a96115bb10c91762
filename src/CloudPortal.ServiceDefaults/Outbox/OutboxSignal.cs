using Microsoft.EntityFrameworkCore;
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

/// <summary>Pulses <see cref="OutboxSignal"/> after a save that added outbox rows.</summary>
public sealed class OutboxSaveChangesInterceptor(OutboxSignal signal) : SaveChangesInterceptor
{
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

    private void Notify(DbContext? context)
    {
        // Inside an explicit transaction the rows are not visible yet; the poll picks them up after commit.
        if (context is not null && context.Database.CurrentTransaction is null)
            signal.Pulse();
    }
}
