using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Outbox;

public static class OutboxExtensions
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Queues an event; it is published after the surrounding <c>SaveChanges</c> commits.</summary>
    public static Guid Publish<T>(this DbSet<OutboxMessage> outbox, T message) where T : class =>
        Add(outbox, message, destination: null);

    /// <summary>
    /// Queues a command for one endpoint. Use <c>exchange:compute-agent.node-1</c>: a <c>queue:</c> address makes the
    /// sender re-declare the queue as classic, which RabbitMQ refuses for a quorum queue.
    /// </summary>
    public static Guid Send<T>(this DbSet<OutboxMessage> outbox, Uri destination, T message) where T : class =>
        Add(outbox, message, destination.ToString());

    private static Guid Add<T>(DbSet<OutboxMessage> outbox, T message, string? destination) where T : class
    {
        ArgumentNullException.ThrowIfNull(message);
        var type = message.GetType();
        var id = Guid.NewGuid();
        outbox.Add(new OutboxMessage
        {
            MessageId = id,
            MessageType = $"{type.FullName}, {type.Assembly.GetName().Name}",
            Body = JsonSerializer.Serialize(message, type, Json),
            Destination = destination,
            CreatedAt = DateTime.UtcNow,
        });
        return id;
    }
}
