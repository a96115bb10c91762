using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Messaging;

/// <summary>
/// Believes a node's report only from that node (ADR 0015). RabbitMQ checks that a message's <c>user_id</c> property is
/// the user of the connection that published it, so the property names the real sender: a node's own user may speak
/// for its node only; a control-plane user (any user that is not a node's) is trusted as before. A report without a
/// <c>user_id</c>, or from another node's user, is refused: it goes to the queue's <c>_error</c> queue, where admins see it.
/// On the in-memory bus every publisher is this process, and nothing is checked.
/// </summary>
public sealed partial class NodeReportOrigin<T>(NodeReportSenders senders, ILogger<NodeReportSenders> log) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (NodeReports.Host(context.Message) is { } host && context.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit)
            && !senders.MaySpeakFor(rabbit.Properties.UserId, host))
        {
            var sender = rabbit.Properties.UserId ?? "(none)";
            LogRefused(log, typeof(T).Name, host, sender);
            throw new ForgedNodeReportException($"a {typeof(T).Name} for node '{host}' came from RabbitMQ user '{sender}', which is not that node's");
        }
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("nodeReportOrigin");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a {MessageType} for node {Host} from RabbitMQ user {User}: a node may report only for itself")]
    private static partial void LogRefused(ILogger logger, string messageType, string host, string user);
}

/// <summary>Who may publish a report for which node, in one virtual host.</summary>
public sealed class NodeReportSenders(string virtualHost)
{
    public bool MaySpeakFor(string? user, string host) =>
        !string.IsNullOrEmpty(user) && (!NodeIdentity.IsNodeUser(virtualHost, user) || user == NodeIdentity.UserName(virtualHost, host));
}

/// <summary>A node's report came from somebody else: never retried, never applied.</summary>
public sealed class ForgedNodeReportException(string message) : Exception(message);
