using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Contracts.Compute;

/// <summary>
/// Every message a compute node's agent sends into the cloud, and the node each one speaks for. A consumer believes
/// such a report only when it came from that node (or from the control plane): see ADR 0015.
/// </summary>
public static class NodeReports
{
    /// <summary>The events the agent publishes: a registered node may publish these and nothing else.</summary>
    public static readonly IReadOnlyList<Type> Published =
    [
        typeof(ComputeNodeReported),
        typeof(InstancePowerStateChanged),
        typeof(NodeInstancesReported),
        typeof(InstanceSpawned),
        typeof(InstanceSpawnFailed),
        typeof(InstanceActionCompleted),
        typeof(InstanceActionFailed),
    ];

    /// <summary>The node a message speaks for, or null when it is not a node's report. Responses to console requests count too.</summary>
    public static string? Host(object message) => message switch
    {
        ComputeNodeReported m => m.Host,
        InstancePowerStateChanged m => m.Host,
        NodeInstancesReported m => m.Host,
        InstanceSpawned m => m.Host,
        InstanceSpawnFailed m => m.Host,
        InstanceActionCompleted m => m.Host,
        InstanceActionFailed m => m.Host,
        ConsoleLog m => m.Host,
        VncEndpoint m => m.Host,
        ConsoleUnavailable m => m.Host,
        _ => null,
    };
}
