namespace CloudPortal.ServiceDefaults.Outbox;

/// <summary>A message waiting in the outbox (or already relayed, until pruned).</summary>
public sealed class OutboxMessage
{
    /// <summary>Insertion order; the relay publishes in this order.</summary>
    public long Sequence { get; set; }

    /// <summary>Becomes the bus message id, so consumers can recognise a re-relayed message.</summary>
    public Guid MessageId { get; set; }

    /// <summary>Assembly-qualified name of the contract type (without version).</summary>
    public required string MessageType { get; set; }

    public required string Body { get; set; }

    /// <summary>Null to publish the event; an endpoint address (<c>exchange:compute-agent.node-1</c>) to send a command.</summary>
    public string? Destination { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? SentAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>
    /// Set when the row can never be published (its type no longer exists, its body does not deserialize):
    /// it is set aside so the rows behind it flow, and stays for an operator to inspect.
    /// </summary>
    public DateTime? FailedAt { get; set; }

    public string? LastError { get; set; }
}

/// <summary>A message a consumer has already handled; keyed by message id and consumer.</summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }

    public required string Consumer { get; set; }

    public DateTime ReceivedAt { get; set; }
}
