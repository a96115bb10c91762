using CloudPortal.Contracts.Compute;

namespace CloudPortal.Compute.Instances;

/// <summary>What a user can ask of an instance through the API (the action log's vocabulary too).</summary>
public enum InstanceOperation
{
    Create,
    Stop,
    Start,
    Reboot,
    RebootHard,
    Pause,
    Unpause,
    Suspend,
    Resume,
    Delete,
}

/// <summary>An operation the instance's state does not allow: a 409 <c>invalid_state</c> naming the state.</summary>
public sealed class InvalidStateException(string message) : Exception(message);

/// <summary>
/// The transition table (Nova's check_instance_state as data): from which statuses each operation may start, the task
/// it sets while it runs, the agent's action that carries it out and the status it ends in. No operation starts while
/// another task runs, except delete, which may interrupt a build or a stuck operation.
/// </summary>
public static class InstanceTransitions
{
    public sealed record Rule(InstanceOperation Operation, IReadOnlySet<InstanceStatus> From, InstanceTask Task, InstanceAction AgentAction, InstanceStatus Ends, bool NeedsHost);

    private static readonly InstanceStatus[] Live = [InstanceStatus.Building, InstanceStatus.Active, InstanceStatus.Stopped, InstanceStatus.Paused, InstanceStatus.Suspended, InstanceStatus.Error];

    public static IReadOnlyDictionary<InstanceOperation, Rule> Table { get; } = new Rule[]
    {
        new(InstanceOperation.Stop, Set(InstanceStatus.Active, InstanceStatus.Error), InstanceTask.Stopping, InstanceAction.Stop, InstanceStatus.Stopped, true),
        new(InstanceOperation.Start, Set(InstanceStatus.Stopped), InstanceTask.Starting, InstanceAction.Start, InstanceStatus.Active, true),
        new(InstanceOperation.Reboot, Set(InstanceStatus.Active), InstanceTask.Rebooting, InstanceAction.Reboot, InstanceStatus.Active, true),
        new(InstanceOperation.RebootHard, Set(InstanceStatus.Active, InstanceStatus.Stopped, InstanceStatus.Paused, InstanceStatus.Suspended, InstanceStatus.Error),
            InstanceTask.RebootingHard, InstanceAction.Reboot, InstanceStatus.Active, true),
        new(InstanceOperation.Pause, Set(InstanceStatus.Active), InstanceTask.Pausing, InstanceAction.Pause, InstanceStatus.Paused, true),
        new(InstanceOperation.Unpause, Set(InstanceStatus.Paused), InstanceTask.Unpausing, InstanceAction.Unpause, InstanceStatus.Active, true),
        new(InstanceOperation.Suspend, Set(InstanceStatus.Active), InstanceTask.Suspending, InstanceAction.Suspend, InstanceStatus.Suspended, true),
        new(InstanceOperation.Resume, Set(InstanceStatus.Suspended), InstanceTask.Resuming, InstanceAction.Resume, InstanceStatus.Active, true),
        new(InstanceOperation.Delete, Set(Live), InstanceTask.Deleting, InstanceAction.Delete, InstanceStatus.Deleted, false),
    }.ToDictionary(r => r.Operation);

    /// <summary>The rule for <paramref name="operation"/>, if the instance's state allows it now.</summary>
    /// <exception cref="InvalidStateException">With a sentence naming the state and what would be possible.</exception>
    public static Rule Ensure(Instance instance, InstanceOperation operation)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var rule = Table[operation];
        var verb = Verb(operation);
        if (instance.Status == InstanceStatus.Deleted)
            throw new InvalidStateException($"Cannot {verb} instance {instance.Id}: it is deleted.");
        if (instance.Task == InstanceTask.Deleting)
            throw new InvalidStateException($"Cannot {verb} instance {instance.Id}: it is being deleted.");
        if (instance.Task is { } task && operation != InstanceOperation.Delete)
            throw new InvalidStateException($"Cannot {verb} instance {instance.Id} while it is {Describe(task)}; wait until that is done.");
        if (!rule.From.Contains(instance.Status))
            throw new InvalidStateException($"Cannot {verb} instance {instance.Id}: it is {Lower(instance.Status)}; {verb} needs it {Allowed(rule)}.");
        if (rule.NeedsHost && instance.Host is null)
            throw new InvalidStateException($"Cannot {verb} instance {instance.Id}: it was never built on a host; delete it.");
        return rule;
    }

    /// <summary>Starts the operation: sets its task (the caller records the action and sends the agent's command).</summary>
    public static Rule Begin(Instance instance, InstanceOperation operation, DateTime at)
    {
        var rule = Ensure(instance, operation);
        instance.Task = rule.Task;
        instance.TaskStartedAt = at;
        instance.UpdatedAt = at;
        return rule;
    }

    /// <summary>The operation the instance's current task carries out (null when idle or building).</summary>
    public static Rule? Running(Instance instance) =>
        instance.Task is { } task ? Table.Values.FirstOrDefault(r => r.Task == task) : null;

    /// <summary>The status a power state implies when no operation is running (Nova's power-state sync).</summary>
    public static InstanceStatus? StatusFor(PowerState power) => power switch
    {
        PowerState.Running => InstanceStatus.Active,
        PowerState.Shutdown or PowerState.Crashed => InstanceStatus.Stopped,
        PowerState.Paused => InstanceStatus.Paused,
        PowerState.Suspended => InstanceStatus.Suspended,
        _ => null,
    };

    public static string Verb(InstanceOperation operation) => operation switch
    {
        InstanceOperation.RebootHard => "reboot (hard)",
        _ => operation.ToString().ToLowerInvariant(),
    };

    public static string Describe(InstanceTask task) => task switch
    {
        InstanceTask.RebootingHard => "rebooting (hard)",
        _ => task.ToString().ToLowerInvariant(),
    };

    public static string Lower(InstanceStatus status) => status.ToString().ToLowerInvariant();

    /// <summary>The wire name of a task (<c>rebooting_hard</c>, Nova's <c>reboot_started_hard</c> made plain).</summary>
    public static string Wire(InstanceTask task) => task switch
    {
        InstanceTask.RebootingHard => "rebooting_hard",
        _ => task.ToString().ToLowerInvariant(),
    };

    private static string Allowed(Rule rule) => rule.From.Count == 1
        ? Lower(rule.From.First())
        : string.Join(", ", rule.From.Take(rule.From.Count - 1).Select(Lower)) + " or " + Lower(rule.From.Last());

    private static HashSet<InstanceStatus> Set(params InstanceStatus[] statuses) => [.. statuses];
}
