using CloudPortal.ServiceDefaults.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Outbox;

public static class Inbox
{
    /// <summary>
    /// Runs <paramref name="handle"/> and saves its changes only if this consumer has not handled this
    /// message id before. The inbox record and the effects commit in one transaction, so a redelivered
    /// message (broker redelivery, or an outbox row re-relayed after a crash) has its effect once.
    /// </summary>
    /// <returns>False when the message was a duplicate and nothing was done.</returns>
    public static async Task<bool> ConsumeOnceAsync<TContext>(this TContext db, ConsumeContext context, string consumer, Func<Task> handle)
        where TContext : DbContext, IModuleDbContext
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handle);
        var messageId = context.MessageId ?? throw new InvalidOperationException($"{consumer}: message has no id; the inbox cannot de-duplicate it");
        var cancellationToken = context.CancellationToken;

        if (await Seen(db, messageId, consumer, cancellationToken).ConfigureAwait(false))
            return false;

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        db.Inbox.Add(new InboxMessage { MessageId = messageId, Consumer = consumer, ReceivedAt = DateTime.UtcNow });
        try
        {
            await handle().ConfigureAwait(false);
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (DbUpdateException)
        {
            // A concurrent delivery of the same message won the race for the inbox key.
            await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            db.ChangeTracker.Clear();
            if (await Seen(db, messageId, consumer, CancellationToken.None).ConfigureAwait(false))
                return false;
            throw;
        }
    }

    private static Task<bool> Seen(IModuleDbContext db, Guid messageId, string consumer, CancellationToken cancellationToken) =>
        db.Inbox.AsNoTracking().AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer, cancellationToken);
}
