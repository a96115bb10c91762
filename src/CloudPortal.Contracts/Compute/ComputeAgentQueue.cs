namespace CloudPortal.Contracts.Compute;

/// <summary>
/// Where a compute node's agent listens: one queue per node, <c>compute-agent.{host}</c>. Every command and request
/// of this folder whose record has a <c>Host</c> is sent there (never published).
/// </summary>
public static class ComputeAgentQueue
{
    /// <summary>What every node's queue name starts with.</summary>
    public const string Prefix = "compute-agent.";

    public static string Name(string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        return Prefix + host;
    }

    /// <summary>
    /// The send address, <c>exchange:compute-agent.{host}</c>: the exchange MassTransit binds to the node's queue. Not
    /// <c>queue:...</c>, which makes the sender declare the queue as a classic one, and RabbitMQ refuses that for the
    /// agent's quorum queue (PRECONDITION_FAILED, inequivalent arg 'x-queue-type'). The queue exists from the agent's
    /// first start on; a command for a host whose agent never ran is dropped.
    /// </summary>
    public static Uri Address(string host) => new($"exchange:{Name(host)}");
}
