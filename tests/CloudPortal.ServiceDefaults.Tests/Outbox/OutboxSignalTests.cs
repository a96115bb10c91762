using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Tests.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Outbox;

/// <summary>A second module's database, for pulses that must stay in their own module.</summary>
public sealed class OtherModuleDbContext(DbContextOptions<OtherModuleDbContext> options) : ModuleDbContext(options);

/// <summary>
/// Which saves wake which relay: only a save that adds outbox rows, only its own database's relay, and inside a
/// transaction only once it commits. Every save used to wake every relay of the process, the relays' own marks too, and
/// on a two-core host the relays looking for rows for nothing kept a core busy.
/// </summary>
public sealed class OutboxSignalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cloudportal-signal-").FullName;

    private readonly OutboxSignal _signal = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_save_that_adds_no_outbox_row_wakes_no_relay()
    {
        await using var db = await CreatedAsync<StampsDbContext>();
        var stamps = _signal.Next<StampsDbContext>();
        db.Stamps.Add(new Stamp { Id = 1, At = DateTime.UtcNow });
        await db.SaveChangesAsync(Cancel);
        Assert.False(stamps.IsCompleted);

        db.Outbox.Publish(new NoteWritten("hello"));
        await db.SaveChangesAsync(Cancel);
        Assert.True(stamps.IsCompleted);
    }

    [Fact]
    public async Task A_commit_wakes_only_the_relay_of_its_own_database()
    {
        await using var stampsDb = await CreatedAsync<StampsDbContext>();
        await using var otherDb = await CreatedAsync<OtherModuleDbContext>();
        var stamps = _signal.Next<StampsDbContext>();
        var other = _signal.Next<OtherModuleDbContext>();

        await using (var transaction = await otherDb.Database.BeginTransactionAsync(Cancel))
        {
            otherDb.Outbox.Publish(new NoteWritten("in a transaction"));
            await otherDb.SaveChangesAsync(Cancel);
            Assert.False(other.IsCompleted);   // not visible to the relay until the commit
            await transaction.CommitAsync(Cancel);
        }
        Assert.True(other.IsCompleted);
        Assert.False(stamps.IsCompleted);
    }

    [Fact]
    public async Task A_pulse_before_the_relay_waits_is_not_lost()
    {
        await using var db = await CreatedAsync<StampsDbContext>();
        var taken = _signal.Next<StampsDbContext>();   // as the relay does, before it looks for rows
        db.Outbox.Publish(new NoteWritten("while the relay looked"));
        await db.SaveChangesAsync(Cancel);
        // The relay waits only now; the pulse it took already fired, so it does not sleep until the next poll.
        await OutboxSignal.WaitAsync(taken, TimeSpan.FromHours(1), Cancel);
        Assert.True(taken.IsCompleted);
    }

    private async Task<TContext> CreatedAsync<TContext>() where TContext : DbContext
    {
        var options = new DbContextOptionsBuilder<TContext>()
            .UseSqlite(new SqliteConnectionStringBuilder { DataSource = Path.Combine(_dir, $"{typeof(TContext).Name}.db"), Pooling = false }.ToString())
            .AddInterceptors(new OutboxSaveChangesInterceptor(_signal))
            .Options;
        var db = (TContext)Activator.CreateInstance(typeof(TContext), options)!;
        await db.Database.EnsureCreatedAsync(Cancel);
        return db;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record NoteWritten(string Text);
}
