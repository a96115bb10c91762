using System.Text.RegularExpressions;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.ServiceDefaults.Messaging;

/// <summary>
/// A compute node's own RabbitMQ user and what it may touch (ADR 0015). The node's identity is this user: it holds no
/// OIDC credential, because the one thing it fetches over HTTP (image bytes) comes through the expiring URL of each spawn.
/// </summary>
public static class NodeIdentity
{
    /// <summary>
    /// <c>compute-agent.{host}</c>, or <c>{vhost}.compute-agent.{host}</c> outside the default virtual host (users are
    /// the broker's, not the virtual host's, so two clouds on one broker must not share a node's user).
    /// </summary>
    public static string UserName(string virtualHost, string host)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        return IsDefault(virtualHost) ? ComputeAgentQueue.Prefix + host : $"{virtualHost}.{ComputeAgentQueue.Prefix}{host}";
    }

    /// <summary>The agent's bus endpoint (where answers to its own requests arrive): unique per process, and the node's alone.</summary>
    public static string BusEndpointName(string host) => $"{ComputeAgentQueue.Name(host)}.bus-{Guid.NewGuid():N}";

    /// <summary>
    /// The node's permissions in its virtual host, as RabbitMQ's three regular expressions:
    /// <list type="bullet">
    /// <item>its own queue (and exchange) <c>compute-agent.{host}</c> with MassTransit's <c>_error</c>/<c>_skipped</c> and its bus endpoint: declare, read, write;</item>
    /// <item>the exchanges of the events it publishes (<see cref="NodeReports.Published"/>) and of MassTransit's faults: declare and write, never read;</item>
    /// <item>the control plane's temporary bus endpoints (<c>..._bus_...</c>), where console answers go: declare and write.</item>
    /// </list>
    /// Nothing else: not another node's queue, not a quota or usage event, not a tenant's request.
    /// </summary>
    public static NodePermissions Permissions(string host)
    {
        var queue = Regex.Escape(ComputeAgentQueue.Name(host));
        var own = $@"{queue}(_error|_skipped|\.bus-[0-9a-f]{{32}})?";
        var events = string.Join('|', NodeReports.Published.Select(type => Regex.Escape(ExchangeName(type))));
        const string faults = @"MassTransit:Fault(--[A-Za-z0-9.:]+--)?";
        const string answers = @"[^.]+_bus_[a-z0-9]+";
        return new NodePermissions(
            Configure: $"^({own}|{events}|{faults}|{answers})$",
            Write: $"^({own}|{events}|{faults}|{answers})$",
            Read: $"^({own})$");
    }

    /// <summary>True for the user name of any node of the virtual host (as opposed to a control-plane user).</summary>
    public static bool IsNodeUser(string virtualHost, string user) =>
        user.StartsWith(IsDefault(virtualHost) ? ComputeAgentQueue.Prefix : $"{virtualHost}.{ComputeAgentQueue.Prefix}", StringComparison.Ordinal);

    /// <summary>MassTransit's exchange for a published type on RabbitMQ: <c>Namespace:TypeName</c>.</summary>
    internal static string ExchangeName(Type type) => $"{type.Namespace}:{type.Name}";

    private static bool IsDefault(string virtualHost) => string.IsNullOrEmpty(virtualHost) || virtualHost == "/";
}

/// <summary>RabbitMQ's configure, write and read permissions of one user in one virtual host.</summary>
public sealed record NodePermissions(string Configure, string Write, string Read);
