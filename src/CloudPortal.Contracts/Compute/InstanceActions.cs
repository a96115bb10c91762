namespace CloudPortal.Contracts.Compute;

/// <summary>What <see cref="InstanceActionCompleted"/> and <see cref="InstanceActionFailed"/> report on.</summary>
public enum InstanceAction
{
    Stop,
    Start,
    Reboot,
    Pause,
    Unpause,
    Suspend,
    Resume,
    Delete,
}

/// <summary>
/// Command: power the instance off. The guest gets the ACPI power button and <paramref name="Timeout"/> (null: the
/// agent's <c>StopTimeout</c>) to shut down; then the domain is destroyed. Stopping a stopped instance succeeds with
/// nothing changed; stopping a suspended one discards its saved memory.
/// </summary>
public sealed record StopInstance(Guid InstanceId, string Host, TimeSpan? Timeout = null);

/// <summary>Command: boot a stopped instance (a suspended one is restored).</summary>
public sealed record StartInstance(Guid InstanceId, string Host);

/// <summary>
/// Command: reboot. Soft: ACPI shutdown within <paramref name="Timeout"/> (null: <c>StopTimeout</c>), then boot; a guest
/// that ignores the button gets a hard reboot, and the completion says so. Hard: destroy and boot at once. A stopped
/// instance is booted.
/// </summary>
public sealed record RebootInstance(Guid InstanceId, string Host, bool Hard, TimeSpan? Timeout = null);

/// <summary>Command: freeze the vCPUs; memory stays allocated on the node.</summary>
public sealed record PauseInstance(Guid InstanceId, string Host);

public sealed record UnpauseInstance(Guid InstanceId, string Host);

/// <summary>Command: save the guest's memory to disk and stop it (libvirt managed save); <see cref="ResumeInstance"/> restores it.</summary>
public sealed record SuspendInstance(Guid InstanceId, string Host);

public sealed record ResumeInstance(Guid InstanceId, string Host);

/// <summary>
/// Command: remove the instance from the node: domain, saved memory, disk overlay and console log. The cached base
/// image stays (other instances may use it). An instance the node does not have fails with
/// <see cref="AgentFailureCodes.InstanceNotFound"/>, which a repeated delete may treat as done.
/// </summary>
public sealed record DeleteInstance(Guid InstanceId, string Host);

/// <summary>
/// The action is done. <paramref name="PowerState"/> is libvirt's state afterwards (<see cref="PowerState.NoState"/>
/// after a delete).
/// </summary>
/// <param name="Changed">False when the instance already was in the requested state (a repeated command).</param>
/// <param name="Detail">How, in a few words, e.g. "forced off: the guest ignored the ACPI power button for 60 s".</param>
public sealed record InstanceActionCompleted(
    Guid InstanceId, string Host, InstanceAction Action, PowerState PowerState, bool Changed, string Detail, bool Simulated, DateTimeOffset At);

/// <summary>The action was not done; <paramref name="PowerState"/> is the state libvirt reports now, when known.</summary>
/// <param name="Code">One of <see cref="AgentFailureCodes"/>.</param>
public sealed record InstanceActionFailed(
    Guid InstanceId, string Host, InstanceAction Action, string Code, string Reason, PowerState? PowerState, DateTimeOffset At);
