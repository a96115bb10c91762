using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Persistence;

/// <summary>
/// Two writers of one SQLite file in one process: the second awaits its turn (no thread asleep in Microsoft.Data.Sqlite's
/// 150 ms retry loop), and every way a transaction ends gives the turn back.
/// </summary>
public sealed class SqliteWriteGateTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"cloudportal-gate-{Guid.NewGuid():N}.db");

    private readonly SqliteWriteGate _gate = new();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_second_writer_awaits_the_first_without_holding_its_thread_and_both_commit()
    {
        await using var first = await CreatedAsync();
        await using var second = Context();
        await using var held = await first.Database.BeginTransactionAsync(Cancel);
        first.Stamps.Add(new Stamp { Id = 1, At = DateTime.UtcNow });
        await first.SaveChangesAsync(Cancel);

        // Without the gate this call would not return until SQLite's lock was free: Microsoft.Data.Sqlite begins
        // synchronously and sleeps on this thread between tries, and with the first transaction open that is never.
        var waiting = second.Database.BeginTransactionAsync(Cancel);
        Assert.False(waiting.IsCompleted);

        await held.CommitAsync(Cancel);
        await using var turn = await waiting;
        second.Stamps.Add(new Stamp { Id = 2, At = DateTime.UtcNow });
        await second.SaveChangesAsync(Cancel);
        await turn.CommitAsync(Cancel);

        await using var reader = Context();
        Assert.Equal([1, 2], await reader.Stamps.OrderBy(s => s.Id).Select(s => s.Id).ToListAsync(Cancel));
    }

    [Theory]
    [InlineData("rollback")]
    [InlineData("dispose")]
    [InlineData("close")]
    public async Task Every_end_of_a_transaction_gives_the_turn_back(string end)
    {
        await using var first = await CreatedAsync();
        await using var second = Context();
        var held = await first.Database.BeginTransactionAsync(Cancel);
        var waiting = second.Database.BeginTransactionAsync(Cancel);
        Assert.False(waiting.IsCompleted);

        switch (end)
        {
            case "rollback":
                await held.RollbackAsync(Cancel);
                break;
            case "dispose":
                await held.DisposeAsync();
                break;
            case "close":
                // Not through EF at all: the connection under the transaction closes.
                await first.Database.GetDbConnection().CloseAsync();
                break;
        }

        await using var turn = await waiting;
        second.Stamps.Add(new Stamp { Id = 7, At = DateTime.UtcNow });
        await second.SaveChangesAsync(Cancel);
        await turn.CommitAsync(Cancel);
        await held.DisposeAsync();
        await using var reader = Context();
        Assert.Equal(1, await reader.Stamps.CountAsync(Cancel));
    }

    [Fact]
    public async Task A_turn_that_never_comes_fails_as_sqlite_does_with_a_busy_database()
    {
        await using var first = await CreatedAsync();
        await using var second = Context(timeoutSeconds: 1);
        await using var held = await first.Database.BeginTransactionAsync(Cancel);

        var error = await Assert.ThrowsAsync<SqliteException>(() => second.Database.BeginTransactionAsync(Cancel));
        Assert.Equal(5, error.SqliteErrorCode);   // SQLITE_BUSY: what the callers that retry a busy database look for
        Assert.Contains("database is locked", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Separate_files_do_not_wait_for_each_other()
    {
        await using var first = await CreatedAsync();
        var other = _file + ".other.db";
        try
        {
            await using var second = Context(other);
            await second.Database.EnsureCreatedAsync(Cancel);
            await using var held = await first.Database.BeginTransactionAsync(Cancel);
            var beginning = second.Database.BeginTransactionAsync(Cancel);
            Assert.True(beginning.IsCompleted);
            await (await beginning).CommitAsync(Cancel);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(other);
        }
    }

    [Fact]
    public async Task Every_connection_gets_sqlites_busy_handler_for_the_writers_of_other_processes()
    {
        await using var db = await CreatedAsync();
        await db.Database.OpenConnectionAsync(Cancel);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA busy_timeout";
        // Microsoft.Data.Sqlite sets none: SQLite's handler would not run and every busy answer would cost 150 ms.
        Assert.Equal(30_000L, (long)(await command.ExecuteScalarAsync(Cancel))!);
    }

    private async Task<StampsDbContext> CreatedAsync()
    {
        var db = Context();
        await db.Database.EnsureCreatedAsync(Cancel);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", Cancel);
        return db;
    }

    private StampsDbContext Context(string? file = null, int timeoutSeconds = 30) => new(new DbContextOptionsBuilder<StampsDbContext>()
        .UseSqlite(new SqliteConnectionStringBuilder { DataSource = file ?? _file, DefaultTimeout = timeoutSeconds, Pooling = true }.ToString())
        .AddInterceptors(_gate)
        .Options);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            File.Delete(_file + suffix);
    }
}
