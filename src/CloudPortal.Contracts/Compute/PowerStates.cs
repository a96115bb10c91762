namespace CloudPortal.Contracts.Compute;

/// <summary>What the hypervisor says about an instance: Nova's power states (and their numbers), from libvirt's domain state.</summary>
public enum PowerState
{
    /// <summary>No domain (deleted, or never created), or libvirt does not know.</summary>
    NoState = 0,
    Running = 1,
    Paused = 3,
    /// <summary>Shut off, or shutting down.</summary>
    Shutdown = 4,
    Crashed = 6,
    /// <summary>Memory saved to disk (managed save) or suspended by the guest's power management.</summary>
    Suspended = 7,
}

/// <summary>Where an <see cref="InstancePowerStateChanged"/> came from.</summary>
public static class PowerStateSources
{
    /// <summary>A libvirt lifecycle event, published as it happens (also for changes made outside CloudPortal, e.g. with virsh).</summary>
    public const string LibvirtEvent = "libvirt-event";

    /// <summary>The agent's periodic scan found a state its events had not told.</summary>
    public const string Report = "report";
}

/// <summary>Event: libvirt changed an instance's power state.</summary>
/// <param name="Reason">libvirt's event and detail, e.g. "stopped: destroyed", "started: booted", "undefined: removed".</param>
/// <param name="At">When the agent learnt it (its clock).</param>
/// <param name="Source">One of <see cref="PowerStateSources"/>.</param>
public sealed record InstancePowerStateChanged(
    Guid InstanceId, string Host, PowerState PowerState, string Reason, DateTimeOffset At, string Source, bool Simulated);

/// <summary>One instance in a <see cref="NodeInstancesReported"/>.</summary>
/// <param name="ProjectId">From the domain's CloudPortal metadata.</param>
/// <param name="Flavor">The flavor name from the metadata.</param>
public sealed record InstancePowerReport(Guid InstanceId, Guid ProjectId, string Flavor, PowerState PowerState);

/// <summary>
/// Event, every <c>ReportInterval</c> and after each (re)connection to libvirt: every CloudPortal instance the node
/// has, whatever Compute believes. The input of the orphan reaper and of power-state reconciliation.
/// </summary>
public sealed record NodeInstancesReported(string Host, IReadOnlyList<InstancePowerReport> Instances, bool Simulated, DateTimeOffset At);
