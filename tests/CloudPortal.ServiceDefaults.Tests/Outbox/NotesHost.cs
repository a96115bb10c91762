using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Tests.Outbox;

/// <summary>A host running the notes module with the real outbox relay, bus and database.</summary>
public sealed class NotesHost : IAsyncDisposable
{
    private readonly IHost _host;

    private NotesHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public Deliveries Deliveries => Services.GetRequiredService<Deliveries>();

    /// <param name="provider">sqlite or postgres.</param>
    /// <param name="rabbitMqUri">Null for the in-memory bus.</param>
    public static async Task<NotesHost> StartAsync(string provider, string dataDir, TestPostgres? postgres, string? rabbitMqUri)
    {
        Directory.CreateDirectory(dataDir);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["CloudPortal:DataDir"] = dataDir,
            ["CloudPortal:Database:Provider"] = provider == "postgres" ? "Postgres" : "Sqlite",
            ["CloudPortal:Database:Postgres"] = provider == "postgres" ? TestPostgres.ServerConnectionString : null,
            ["CloudPortal:Database:DatabasePrefix"] = postgres?.Prefix,
            ["CloudPortal:Bus:RabbitMq"] = rabbitMqUri,
            // Short timings so an outage and recovery fit in a test.
            ["CloudPortal:Outbox:PollInterval"] = "00:00:00.500",
            ["CloudPortal:Outbox:PublishTimeout"] = "00:00:03",
            ["CloudPortal:Outbox:MaxBackoff"] = "00:00:02",
        });
        builder.AddModuleDatabase<NotesDbContext, SqliteNotesDbContext, PostgresNotesDbContext>("notes");
        builder.Services.AddSingleton<Deliveries>();
        builder.AddConsumers(bus => bus.AddConsumer<NoteAddedConsumer>());
        builder.AddCloudPortalBus();
        var host = builder.Build();

        await using (var scope = host.Services.CreateAsyncScope())
        {
            // The test module has no migrations of its own; the real modules' migrations are tested elsewhere.
            await scope.ServiceProvider.GetRequiredService<NotesDbContext>().Database.EnsureCreatedAsync();
        }
        await host.StartAsync();
        return new NotesHost(host);
    }

    /// <summary>A business change and its event, committed together.</summary>
    public async Task<Guid> AddNoteAsync(string text)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NotesDbContext>();
        var note = new Note { Id = Guid.NewGuid(), Text = text };
        db.Notes.Add(note);
        db.Outbox.Publish(new NoteAdded(note.Id, text));
        await db.SaveChangesAsync();
        return note.Id;
    }

    public async Task<T> QueryAsync<T>(Func<NotesDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<NotesDbContext>());
    }

    public Task<int> EffectsAsync(Guid noteId) => QueryAsync(db => db.Effects.CountAsync(e => e.NoteId == noteId));

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _host.StopAsync(stop.Token);
        }
        finally
        {
            _host.Dispose();
        }
    }
}
