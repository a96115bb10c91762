using System.Collections.Concurrent;
using System.Net.Mime;
using MassTransit;
using MassTransit.Middleware;
using MassTransit.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Messaging.DeadLetters;

/// <summary>
/// The in-memory bus's dead letters. MassTransit still moves a failed message to its <c>*_error</c> queue, but nothing
/// outside the bus can read an in-memory queue, so a filter on every endpoint's error pipe keeps a copy here (ADR 0014).
/// They live in this process's memory, like every in-flight message of the in-memory bus, and are gone after a restart;
/// the log line written when one is captured stays.
/// </summary>
public sealed partial class CapturedDeadLetters(IServiceProvider services, ILogger<CapturedDeadLetters> log) : IDeadLetterSource
{
    /// <summary>The oldest are dropped beyond this many (a consumer failing on every message must not exhaust memory).</summary>
    public const int Capacity = 1000;

    private const string Prefix = "queue:";
    private readonly ConcurrentDictionary<string, Captured> _letters = new(StringComparer.Ordinal);

    public bool Owns(string id) => id.StartsWith(Prefix, StringComparison.Ordinal);

    public Task<IReadOnlyList<DeadLetterDetail>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeadLetterDetail>>(_letters.Values.OrderBy(c => c.FailedAt).Select(c => c.Detail()).ToList());

    public async Task<DeadLetterOutcome> ReplayAsync(string id, CancellationToken cancellationToken)
    {
        if (!_letters.TryRemove(id, out var letter))
            return DeadLetterOutcome.NotFound;
        try
        {
            var endpoint = await services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{letter.Queue}")).ConfigureAwait(false);
            // The body goes as it arrived (the envelope with its message id, type and headers); the carrier object only routes it.
            await endpoint.Send(new ReplayedDeadLetter(letter.Id), context =>
            {
                context.Serializer = new CopyBodySerializer(letter.ContentType, new BytesMessageBody(letter.Body));
                if (letter.MessageId is { } messageId)
                    context.MessageId = messageId;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _letters.TryAdd(id, letter);
            throw;
        }
        LogReplayed(log, id, letter.Queue);
        return DeadLetterOutcome.Done;
    }

    public Task<DeadLetterOutcome> DiscardAsync(string id, CancellationToken cancellationToken) =>
        Task.FromResult(_letters.TryRemove(id, out _) ? DeadLetterOutcome.Done : DeadLetterOutcome.NotFound);

    internal void Capture(string queue, ExceptionReceiveContext context)
    {
        var body = context.Body.GetBytes();
        var (messageId, messageType) = Envelope.Read(body);
        // The exception the consumer threw, as MassTransit's MT-Fault-ExceptionType/MT-Fault-Message headers name it on RabbitMQ.
        var exception = context.Exception;
        var id = $"{Prefix}{queue}_error:{messageId ?? Guid.NewGuid()}";
        var letter = new Captured(id, queue, messageId, messageType, $"{exception.GetType().FullName}: {exception.Message}",
            DateTime.SpecifyKind(context.ExceptionTimestamp, DateTimeKind.Utc), context.ContentType ?? new ContentType("application/vnd.masstransit+json"), body);
        _letters[id] = letter;
        while (_letters.Count > Capacity && _letters.Values.MinBy(c => c.FailedAt) is { } oldest)
            _letters.TryRemove(oldest.Id, out _);
        LogCaptured(log, id, letter.Reason);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead letter {Id}: {Reason} (kept in memory until replayed, discarded or the process stops)")]
    private static partial void LogCaptured(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {Id} replayed to {Queue}")]
    private static partial void LogReplayed(ILogger logger, string id, string queue);

    private sealed record Captured(string Id, string Queue, Guid? MessageId, string? MessageType, string Reason, DateTime FailedAt, ContentType ContentType, byte[] Body)
    {
        public DeadLetterDetail Detail() => new(new DeadLetterView(Id, $"queue:{Queue}_error", MessageType, MessageId, Reason, FailedAt, $"queue:{Queue}"), Envelope.Text(Body));
    }
}

/// <summary>Only carries a replayed body to its queue (the serializer sends the original bytes instead of this).</summary>
public sealed record ReplayedDeadLetter(string Id);

/// <summary>Keeps a copy of every message an endpoint gives up on, then lets MassTransit fault it and move it as usual.</summary>
internal sealed class CaptureDeadLetterFilter(CapturedDeadLetters store, string queue) : IFilter<ExceptionReceiveContext>
{
    public Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        store.Capture(queue, context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("captureDeadLetter");
}

public static class DeadLetterCapture
{
    /// <summary>
    /// On the in-memory transport, copies what every endpoint gives up on into <see cref="CapturedDeadLetters"/>; the error
    /// pipe then does what MassTransit does by default (publish the fault, move the message to <c>*_error</c>). RabbitMQ's
    /// error queues are read from the broker instead (<see cref="BrokerDeadLetters"/>).
    /// </summary>
    public static void Configure(IBusRegistrationConfigurator bus, bool usesRabbitMq)
    {
        ArgumentNullException.ThrowIfNull(bus);
        if (usesRabbitMq)
            return;
        bus.AddConfigureEndpointsCallback((context, queue, endpoint) =>
        {
            var store = context.GetService<CapturedDeadLetters>();
            if (store is null)
                return;
            endpoint.ConfigureError(error =>
            {
                error.UseFilter(new CaptureDeadLetterFilter(store, queue));
                error.UseFilter(new GenerateFaultFilter());
                error.UseFilter(new ErrorTransportFilter());
            });
        });
    }
}
