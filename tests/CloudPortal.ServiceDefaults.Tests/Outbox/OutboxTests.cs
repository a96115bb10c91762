using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Outbox;

public sealed class OutboxTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Message_written_while_the_bus_is_down_is_delivered_once_after_it_comes_back(string provider)
    {
        await using var rabbitMq = await TestRabbitMq.CreateAsync();
        await using var broker = new TcpProxy(TestEnvironment.RabbitMqHost, TestEnvironment.RabbitMqPort);
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        await using var host = await NotesHost.StartAsync(provider, _dataDir, postgres, rabbitMq.Uri(broker.Port));

        broker.Cut();
        var noteId = await host.AddNoteAsync("written during an outage");

        // The business change committed; the relay tried, failed, and kept the row.
        var failed = await WaitForAsync(host, row => row.Attempts > 0);
        Assert.Null(failed.SentAt);
        Assert.False(string.IsNullOrEmpty(failed.LastError));
        Assert.Equal(1, await host.QueryAsync(db => db.Notes.CountAsync(n => n.Id == noteId)));
        Assert.Equal(0, host.Deliveries.Count(noteId));

        broker.Open();
        await host.Deliveries.WaitForAsync(noteId, 1, TimeSpan.FromSeconds(90));
        Assert.Equal(1, await host.EffectsAsync(noteId));
        var sent = await WaitForAsync(host, row => row.SentAt is not null);
        Assert.Null(sent.LastError);
    }

    [Fact]
    public async Task Unsent_messages_survive_a_restart_and_are_relayed_by_the_next_process()
    {
        await using var rabbitMq = await TestRabbitMq.CreateAsync();
        await using var broker = new TcpProxy(TestEnvironment.RabbitMqHost, TestEnvironment.RabbitMqPort);
        Guid noteId;
        await using (var before = await NotesHost.StartAsync("sqlite", _dataDir, null, rabbitMq.Uri(broker.Port)))
        {
            broker.Cut();
            noteId = await before.AddNoteAsync("outlives its process");
            await WaitForAsync(before, row => row.Attempts > 0);
            Assert.Equal(0, before.Deliveries.Count(noteId));
        }

        broker.Open();
        await using var after = await NotesHost.StartAsync("sqlite", _dataDir, null, rabbitMq.Uri(broker.Port));
        await after.Deliveries.WaitForAsync(noteId, 1, TimeSpan.FromSeconds(60));
        Assert.Equal(1, await after.EffectsAsync(noteId));
    }

    [Theory]
    [InlineData("sqlite", "in-memory")]
    [InlineData("sqlite", "rabbitmq")]
    [InlineData("postgres", "rabbitmq")]
    public async Task Redelivered_message_is_consumed_once(string provider, string transport)
    {
        await using var rabbitMq = transport == "rabbitmq" ? await TestRabbitMq.CreateAsync() : null;
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        await using var host = await NotesHost.StartAsync(provider, _dataDir, postgres, rabbitMq?.Uri());
        var bus = host.Services.GetRequiredService<IBus>();
        var messageId = NewId.NextGuid();
        var noteId = Guid.NewGuid();

        // What a relay does when it crashes between the broker's confirm and marking the row sent:
        // the same message, with the same id, more than once — here five times, concurrently.
        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            bus.Publish(new NoteAdded(noteId, "again"), context => context.MessageId = messageId)));

        await host.Deliveries.WaitForAsync(noteId, 5, TimeSpan.FromSeconds(60));
        Assert.Equal(1, await host.EffectsAsync(noteId));
        Assert.Equal(1, await host.QueryAsync(db => db.Inbox.CountAsync(m => m.MessageId == messageId)));
    }

    [Fact]
    public async Task A_rolled_back_change_publishes_nothing()
    {
        await using var host = await NotesHost.StartAsync("sqlite", _dataDir, null, null);
        var noteId = await host.AddNoteAsync("first");
        await host.Deliveries.WaitForAsync(noteId, 1, TimeSpan.FromSeconds(30));

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NotesDbContext>();
            db.Notes.Add(new Note { Id = noteId, Text = "duplicate key" });
            db.Outbox.Publish(new NoteAdded(noteId, "must never be published"));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(1, await host.QueryAsync(db => db.Outbox.CountAsync()));
        // The relay publishes rows in order: once a later change's event has arrived, a row of the rolled-back change,
        // had it been stored, would have arrived before it.
        var later = await host.AddNoteAsync("after the rollback");
        await host.Deliveries.WaitForAsync(later, 1, TimeSpan.FromSeconds(30));
        Assert.Equal(1, host.Deliveries.Count(noteId));
    }

    [Theory]
    [InlineData("CloudPortal.Contracts.Gone.NoSuchEvent, CloudPortal.Contracts", "{}")]
    [InlineData("CloudPortal.ServiceDefaults.Tests.Outbox.NoteAdded, CloudPortal.ServiceDefaults.Tests", "not json")]
    public async Task A_row_that_can_never_be_published_is_set_aside_and_the_rows_behind_it_flow(string messageType, string body)
    {
        await using var host = await NotesHost.StartAsync("sqlite", _dataDir, null, null);
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<NotesDbContext>();
            db.Outbox.Add(new OutboxMessage { MessageId = Guid.NewGuid(), MessageType = messageType, Body = body, CreatedAt = DateTime.UtcNow });
            await db.SaveChangesAsync();
        }

        var noteId = await host.AddNoteAsync("written after a poison row");

        await host.Deliveries.WaitForAsync(noteId, 1, TimeSpan.FromSeconds(30));
        var poison = await host.QueryAsync(db => db.Outbox.AsNoTracking().SingleAsync(m => m.MessageType == messageType && m.Body == body));
        Assert.NotNull(poison.FailedAt);
        Assert.Null(poison.SentAt);
        Assert.False(string.IsNullOrEmpty(poison.LastError));
    }

    private static async Task<OutboxMessage> WaitForAsync(NotesHost host, Func<OutboxMessage, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var row = await host.QueryAsync(db => db.Outbox.AsNoTracking().SingleAsync());
            if (condition(row))
                return row;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"outbox row never reached the expected state: attempts {row.Attempts}, sent {row.SentAt}, error {row.LastError}");
            await Task.Delay(200);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
            Directory.Delete(_dataDir, recursive: true);
    }
}
