using CloudPortal.Compute.Instances;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>
/// Compute's status and task as one of EC2's six instance states, and only those (waiters compare the names
/// exactly; OpenStack's ec2-api leaked paused and suspended). Paused and suspended instances are not running: stopped.
/// </summary>
public sealed record InstanceState(int Code, string Name)
{
    public static readonly InstanceState Pending = new(0, "pending");
    public static readonly InstanceState Running = new(16, "running");
    public static readonly InstanceState ShuttingDown = new(32, "shutting-down");
    public static readonly InstanceState Terminated = new(48, "terminated");
    public static readonly InstanceState Stopping = new(64, "stopping");
    public static readonly InstanceState Stopped = new(80, "stopped");

    public static InstanceState Of(InstanceView instance) => (instance.Status, instance.Task) switch
    {
        ("deleted", _) => Terminated,
        (_, "deleting") => ShuttingDown,
        ("building", _) => Pending,
        // A launch that never ran ends as AWS ends one: terminated, with the reason in stateReason.
        ("error", _) when instance.LaunchedAt is null => Terminated,
        ("error", _) => Stopped,
        (_, "stopping" or "pausing" or "suspending") => Stopping,
        (_, "starting" or "unpausing" or "resuming") => Pending,
        ("active", _) => Running,
        _ => Stopped,
    };

    /// <summary>Why the instance is where it is, as EC2's stateReason (code, message), when there is a reason to give.</summary>
    public static (string Code, string Message)? Reason(InstanceView instance)
    {
        if (instance.Fault is { } fault)
            return fault.Code == "no_valid_host"
                ? ("Server.InsufficientInstanceCapacity", fault.Message)
                : ("Server.InternalError", fault.Message);
        var state = Of(instance);
        if (state == Terminated || state == ShuttingDown)
            return ("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
        if (state == Stopped || state == Stopping)
            return ("Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown");
        return null;
    }
}
