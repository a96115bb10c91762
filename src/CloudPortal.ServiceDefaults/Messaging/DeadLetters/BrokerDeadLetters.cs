using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CloudPortal.ServiceDefaults.Messaging.DeadLetters;

/// <summary>A replay the broker refused (the queue the message came from is gone).</summary>
public sealed class DeadLetterReplayException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The broker's error queues cannot be read (the management API refused or is not there).</summary>
public sealed class DeadLettersUnavailableException(string message) : Exception(message);

/// <summary>
/// The <c>*_error</c> queues of the bus's RabbitMQ virtual host, where MassTransit moves a message its consumer kept
/// failing on. The management API names the queues (AMQP cannot list them); AMQP reads them: messages are fetched
/// without acknowledgement and go back to the queue when the channel closes, so a look never loses one. Replay
/// publishes the message, as it was, to the exchange named after the queue it failed in (MassTransit binds each queue
/// to an exchange of its name; sending to <c>queue:</c> would redeclare a quorum queue as classic) and, once the broker
/// confirmed that, acknowledges it in the error queue. Discard acknowledges it.
/// </summary>
public sealed partial class BrokerDeadLetters(IConfiguration configuration, IHttpClientFactory http, ILogger<BrokerDeadLetters> log) : IDeadLetterSource
{
    /// <summary>At most this many messages are read from one error queue per look.</summary>
    public const int PerQueueLimit = 1000;

    private const string Prefix = "queue:";
    public const string ManagementClient = "rabbitmq-management";

    public bool Owns(string id) => id.StartsWith(Prefix, StringComparison.Ordinal);

    public async Task<IReadOnlyList<DeadLetterDetail>> ListAsync(CancellationToken cancellationToken)
    {
        var queues = await ErrorQueuesAsync(cancellationToken).ConfigureAwait(false);
        if (queues.Count == 0)
            return [];
        var found = new List<DeadLetterDetail>();
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        foreach (var queue in queues)
        {
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            for (var read = 0; read < PerQueueLimit; read++)
            {
                if (await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false) is not { } message)
                    break;
                found.Add(View(queue, message.BasicProperties, message.Body.ToArray()));
            }
            // Closing without acknowledging puts every fetched message back.
            await channel.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        return found;
    }

    public Task<DeadLetterOutcome> ReplayAsync(string id, CancellationToken cancellationToken) =>
        WithMessageAsync(id, async (channel, queue, message, view) =>
        {
            var properties = new BasicProperties(message.BasicProperties)
            {
                Headers = message.BasicProperties.Headers?.Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason")
                    .ToDictionary(h => h.Key, h => h.Value),
            };
            var exchange = view.Destination[Prefix.Length..];
            try
            {
                await channel.BasicPublishAsync(exchange, "", mandatory: true, properties, message.Body, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is PublishException or OperationInterruptedException)
            {
                throw new DeadLetterReplayException($"the broker did not take {id} back to '{exchange}': {ex.Message}", ex);
            }
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
            LogReplayed(log, id, exchange);
        }, cancellationToken);

    public Task<DeadLetterOutcome> DiscardAsync(string id, CancellationToken cancellationToken) =>
        WithMessageAsync(id, async (channel, _, message, _) =>
        {
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
            LogDiscarded(log, id);
        }, cancellationToken);

    /// <summary>Finds the message <paramref name="id"/> names in its error queue and acts on it; every other message read goes back.</summary>
    private async Task<DeadLetterOutcome> WithMessageAsync(string id, Func<IChannel, string, BasicGetResult, DeadLetterView, Task> action, CancellationToken cancellationToken)
    {
        var separator = id.LastIndexOf(':');
        if (separator <= Prefix.Length)
            return DeadLetterOutcome.NotFound;
        var queue = id[Prefix.Length..separator];
        if (!(await ErrorQueuesAsync(cancellationToken).ConfigureAwait(false)).Contains(queue))
            return DeadLetterOutcome.NotFound;
        await using var connection = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken).ConfigureAwait(false);
        try
        {
            for (var read = 0; read < PerQueueLimit; read++)
            {
                if (await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false) is not { } message)
                    break;
                var view = View(queue, message.BasicProperties, message.Body.ToArray()).DeadLetter;
                if (view.Id != id)
                    continue;
                await action(channel, queue, message, view).ConfigureAwait(false);
                return DeadLetterOutcome.Done;
            }
            return DeadLetterOutcome.NotFound;
        }
        finally
        {
            if (channel.IsOpen)
                await channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static DeadLetterDetail View(string queue, IReadOnlyBasicProperties properties, byte[] body)
    {
        var headers = properties.Headers;
        var (envelopeId, messageType) = Envelope.Read(body);
        Guid? messageId = Guid.TryParse(properties.MessageId, out var id) ? id : envelopeId;
        var exceptionType = Header(headers, "MT-Fault-ExceptionType");
        var faultMessage = Header(headers, "MT-Fault-Message");
        var reason = exceptionType is null && faultMessage is null
            ? Header(headers, "MT-Reason") ?? "moved to the error queue"
            : $"{exceptionType}: {faultMessage}".Trim(' ', ':');
        var failedAt = DateTime.TryParse(Header(headers, "MT-Fault-Timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : properties.IsTimestampPresent() ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime).UtcDateTime : DateTime.UnixEpoch;
        var input = Header(headers, "MT-Fault-InputAddress") is { } address && Uri.TryCreate(address, UriKind.Absolute, out var uri)
            ? uri.Segments[^1].Split('?')[0]
            : queue.EndsWith("_error", StringComparison.Ordinal) ? queue[..^"_error".Length] : queue;
        // Without a message id the body stands for the message: the same message keeps the same id between looks.
        var key = messageId?.ToString() ?? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(body))[..32].ToLowerInvariant();
        return new DeadLetterDetail(new DeadLetterView($"{Prefix}{queue}:{key}", $"queue:{queue}", messageType ?? properties.Type, messageId, reason, failedAt,
            $"queue:{input}"), Envelope.Text(body));
    }

    private static string? Header(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        } : null;

    private Uri BusUri()
    {
        var uri = RabbitMqAddress.Parse(configuration.GetCloudPortalOptions().Bus.RabbitMq ?? "");
        // MassTransit also takes rabbitmq://; the client library wants amqp(s)://.
        return uri.Scheme == "rabbitmq" ? new UriBuilder(uri) { Scheme = "amqp", Port = uri.IsDefaultPort ? 5672 : uri.Port }.Uri : uri;
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken) =>
        await new ConnectionFactory { Uri = BusUri(), ClientProvidedName = "cloudportal-dead-letters" }.CreateConnectionAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>The error queues of the bus's virtual host, from the management API (<c>CloudPortal:Bus:RabbitMqManagement</c>).</summary>
    private async Task<HashSet<string>> ErrorQueuesAsync(CancellationToken cancellationToken)
    {
        var bus = BusUri();
        var management = RabbitMqAddress.Management(configuration.GetCloudPortalOptions().Bus, bus);
        var (user, password) = (RabbitMqAddress.UserName(bus), RabbitMqAddress.Password(bus));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(management, $"api/queues/{Uri.EscapeDataString(RabbitMqAddress.VirtualHost(bus))}?columns=name"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var response = await http.CreateClient(ManagementClient).SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new DeadLettersUnavailableException($"the RabbitMQ management API at {management.GetLeftPart(UriPartial.Authority)} answered {(int)response.StatusCode} (set CloudPortal:Bus:RabbitMqManagement)");
        var queues = await response.Content.ReadFromJsonAsync<List<JsonElement>>(cancellationToken).ConfigureAwait(false) ?? [];
        return queues.Select(q => q.GetProperty("name").GetString()!).Where(n => n.EndsWith("_error", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {Id} replayed to exchange {Exchange}")]
    private static partial void LogReplayed(ILogger logger, string id, string exchange);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dead letter {Id} discarded")]
    private static partial void LogDiscarded(ILogger logger, string id);
}
