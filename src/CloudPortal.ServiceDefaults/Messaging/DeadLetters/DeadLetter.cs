using System.Text;
using System.Text.Json;

namespace CloudPortal.ServiceDefaults.Messaging.DeadLetters;

/// <summary>
/// A message that could not be delivered: an outbox row the relay set aside, or a message a consumer kept failing on
/// (in a RabbitMQ <c>*_error</c> queue, or captured from the in-memory bus).
/// </summary>
/// <param name="Id">Stable: <c>outbox:{module}:{sequence}</c> or <c>queue:{error queue}:{message id}</c>.</param>
/// <param name="Source">Where it waits: <c>outbox:{module}</c> or <c>queue:{error queue}</c>.</param>
/// <param name="Destination">Where it was going: the queue it failed in, an outbox row's send address, or <c>publish</c>.</param>
public sealed record DeadLetterView(
    string Id,
    string Source,
    string? MessageType,
    Guid? MessageId,
    string Reason,
    DateTime FailedAt,
    string Destination);

/// <summary>A dead letter with its body (the outbox row's JSON, or the transport message as it arrived).</summary>
public sealed record DeadLetterDetail(DeadLetterView DeadLetter, string? Body);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetterView> DeadLetters, string? Next);

/// <summary>What an operation on one dead letter found.</summary>
public enum DeadLetterOutcome
{
    Done,
    NotFound,
}

/// <summary>One place dead letters wait. Ids name their source, so each source recognises its own.</summary>
public interface IDeadLetterSource
{
    bool Owns(string id);

    Task<IReadOnlyList<DeadLetterDetail>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Puts the message back on its way: the relay retries the row, or the message goes back to the queue it failed in.</summary>
    Task<DeadLetterOutcome> ReplayAsync(string id, CancellationToken cancellationToken);

    Task<DeadLetterOutcome> DiscardAsync(string id, CancellationToken cancellationToken);
}

/// <summary>Every dead letter this process can reach, from every source, oldest failure first.</summary>
public sealed class DeadLetterInbox(IEnumerable<IDeadLetterSource> sources)
{
    public async Task<IReadOnlyList<DeadLetterDetail>> ListAsync(CancellationToken cancellationToken)
    {
        var all = new List<DeadLetterDetail>();
        foreach (var source in sources)
            all.AddRange(await source.ListAsync(cancellationToken).ConfigureAwait(false));
        return all.OrderBy(d => d.DeadLetter.FailedAt).ThenBy(d => d.DeadLetter.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<DeadLetterDetail?> FindAsync(string id, CancellationToken cancellationToken) =>
        sources.FirstOrDefault(s => s.Owns(id)) is { } source
            ? (await source.ListAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(d => d.DeadLetter.Id == id)
            : null;

    public Task<DeadLetterOutcome> ReplayAsync(string id, CancellationToken cancellationToken) =>
        sources.FirstOrDefault(s => s.Owns(id))?.ReplayAsync(id, cancellationToken) ?? Task.FromResult(DeadLetterOutcome.NotFound);

    public Task<DeadLetterOutcome> DiscardAsync(string id, CancellationToken cancellationToken) =>
        sources.FirstOrDefault(s => s.Owns(id))?.DiscardAsync(id, cancellationToken) ?? Task.FromResult(DeadLetterOutcome.NotFound);
}

/// <summary>Reads what a MassTransit envelope (<c>application/vnd.masstransit+json</c>) says about the message inside.</summary>
internal static class Envelope
{
    public static (Guid? MessageId, string? MessageType) Read(ReadOnlySpan<byte> body)
    {
        try
        {
            using var json = JsonDocument.Parse(body.ToArray());
            var root = json.RootElement;
            Guid? id = root.TryGetProperty("messageId", out var m) && m.TryGetGuid(out var g) ? g : null;
            string? type = root.TryGetProperty("messageType", out var t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0
                ? t[0].GetString()?.Replace("urn:message:", "", StringComparison.Ordinal)
                : null;
            return (id, type);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    public static string Text(ReadOnlySpan<byte> body)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return "base64:" + Convert.ToBase64String(body);
        }
    }
}
