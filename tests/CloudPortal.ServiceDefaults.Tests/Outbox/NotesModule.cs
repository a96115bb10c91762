using System.Collections.Concurrent;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Tests.Outbox;

// A tiny module, built the way real modules are, to exercise the outbox and inbox end to end.

public sealed record NoteAdded(Guid NoteId, string Text);

public sealed class Note
{
    public Guid Id { get; set; }

    public required string Text { get; set; }
}

/// <summary>One row per applied effect of a NoteAdded: the inbox must keep it at one per message.</summary>
public sealed class NoteEffect
{
    public long Id { get; set; }

    public Guid NoteId { get; set; }
}

public class NotesDbContext(DbContextOptions options) : ModuleDbContext(options)
{
    public DbSet<Note> Notes => Set<Note>();

    public DbSet<NoteEffect> Effects => Set<NoteEffect>();
}

public sealed class SqliteNotesDbContext(DbContextOptions<SqliteNotesDbContext> options) : NotesDbContext(options);

public sealed class PostgresNotesDbContext(DbContextOptions<PostgresNotesDbContext> options) : NotesDbContext(options);

/// <summary>Every delivery the consumer saw, duplicates included.</summary>
public sealed class Deliveries
{
    private readonly ConcurrentQueue<(Guid? MessageId, Guid NoteId)> _seen = new();

    public void Record(Guid? messageId, Guid noteId) => _seen.Enqueue((messageId, noteId));

    public int Count(Guid noteId) => _seen.Count(d => d.NoteId == noteId);

    public async Task WaitForAsync(Guid noteId, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Count(noteId) < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"saw {Count(noteId)} of {count} deliveries of note {noteId} within {timeout}");
            await Task.Delay(100);
        }
    }
}

public sealed class NoteAddedConsumer(NotesDbContext db, Deliveries deliveries) : IConsumer<NoteAdded>
{
    public async Task Consume(ConsumeContext<NoteAdded> context)
    {
        await db.ConsumeOnceAsync(context, nameof(NoteAddedConsumer), () =>
        {
            db.Effects.Add(new NoteEffect { NoteId = context.Message.NoteId });
            return Task.CompletedTask;
        });
        deliveries.Record(context.MessageId, context.Message.NoteId);
    }
}
