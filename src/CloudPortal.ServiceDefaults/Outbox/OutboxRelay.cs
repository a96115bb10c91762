using System.Text.Json;
using CloudPortal.ServiceDefaults.Persistence;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ServiceDefaults.Outbox;

/// <summary>An outbox row that can never be published.</summary>
public sealed class PoisonMessageException(string message) : Exception(message);

public sealed class OutboxOptions
{
    /// <summary>How often the relay looks for rows when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one publish may wait for the broker before the relay backs off.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public int BatchSize { get; set; } = 100;

    /// <summary>Relayed outbox rows and inbox records are kept this long, then pruned.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>
/// Publishes the outbox rows of one module database, in order, and marks them sent. A row is marked only
/// after the broker confirmed it, once per batch, so a crash re-publishes at most the batch in flight — with the
/// same message ids, which the consumers' inbox recognises. Unsent rows survive restarts because they are rows.
/// </summary>
public sealed partial class OutboxRelay<TContext>(
    IServiceScopeFactory scopes,
    IBus bus,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    TimeProvider time,
    ILogger<OutboxRelay<TContext>> log) : BackgroundService
    where TContext : DbContext, IModuleDbContext
{
    private readonly OutboxOptions _options = options.Value;
    private DateTime _lastPrune = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var pulse = signal.Next<TContext>();
                var relayed = await RelayBatchAsync(stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
                await PruneAsync(stoppingToken).ConfigureAwait(false);
                if (relayed < _options.BatchSize)
                    await OutboxSignal.WaitAsync(pulse, _options.PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogRelayFailed(log, typeof(TContext).Name, backoff.TotalSeconds, ex.Message);
                await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }
        }
    }

    /// <summary>Relays up to one batch; returns how many rows were published.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var pending = await db.Outbox
            .Where(m => m.SentAt == null && m.FailedAt == null)
            .OrderBy(m => m.Sequence)
            .Take(_options.BatchSize)
            .ToListAsync(cancellationToken).ConfigureAwait(false);

        var relayed = 0;
        foreach (var row in pending)
        {
            try
            {
                await PublishAsync(row, cancellationToken).ConfigureAwait(false);
            }
            catch (PoisonMessageException ex)
            {
                // Retrying cannot help: set it aside rather than block every later row behind it.
                row.Attempts++;
                row.FailedAt = time.GetUtcNow().UtcDateTime;
                row.LastError = Truncate(ex.Message, 2048);
                LogPoison(log, typeof(TContext).Name, row.Sequence, ex.Message);
                continue;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                row.Attempts++;
                row.LastError = Truncate(ex.Message, 2048);
                await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
                throw; // stop here: later rows must not overtake this one
            }
            catch (OperationCanceledException)
            {
                await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);   // what was published stays published
                throw;
            }
            row.SentAt = time.GetUtcNow().UtcDateTime;
            row.Attempts++;
            row.LastError = null;
            relayed++;
        }
        // One write marks the whole batch, not one per row: each write is a turn at the module database's write lock,
        // which the module's own work waits for.
        if (pending.Count > 0)
            await db.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
        return relayed;
    }

    private async Task PublishAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        var type = Type.GetType(row.MessageType, throwOnError: false)
            ?? throw new PoisonMessageException($"outbox row {row.Sequence}: unknown message type '{row.MessageType}'");
        object message;
        try
        {
            message = JsonSerializer.Deserialize(row.Body, type, OutboxExtensions.Json)
                ?? throw new PoisonMessageException($"outbox row {row.Sequence}: empty body");
        }
        catch (JsonException ex)
        {
            throw new PoisonMessageException($"outbox row {row.Sequence}: body is not a {type.Name}: {ex.Message}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        if (row.Destination is null)
        {
            await bus.Publish(message, type, context => context.MessageId = row.MessageId, timeout.Token).ConfigureAwait(false);
        }
        else
        {
            var endpoint = await bus.GetSendEndpoint(new Uri(row.Destination)).ConfigureAwait(false);
            await endpoint.Send(message, type, context => context.MessageId = row.MessageId, timeout.Token).ConfigureAwait(false);
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (now - _lastPrune < TimeSpan.FromHours(1))
            return;
        _lastPrune = now;
        var cutoff = now - _options.Retention;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        await db.Outbox.Where(m => m.SentAt != null && m.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        await db.Inbox.Where(m => m.ReceivedAt < cutoff).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox relay for {Context} set row {Sequence} aside (FailedAt): {Reason}")]
    private static partial void LogPoison(ILogger logger, string context, long sequence, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay for {Context} paused for {Seconds}s: {Reason}")]
    private static partial void LogRelayFailed(ILogger logger, string context, double seconds, string reason);
}
