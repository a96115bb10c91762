using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.ComputeAgent.Hypervisor;

/// <summary>libvirt's domain states and lifecycle events in Nova's power states (nova/virt/libvirt/driver.py's table).</summary>
public static class PowerStates
{
    public static PowerState Of(LibvirtDomain domain)
    {
        var state = domain.GetState().State;
        return From(state, state == DomainState.Shutoff && domain.HasManagedSaveImage());
    }

    public static PowerState From(DomainState state, bool hasManagedSave) => state switch
    {
        DomainState.Running or DomainState.Blocked => PowerState.Running,
        DomainState.Paused => PowerState.Paused,
        DomainState.Shutdown => PowerState.Shutdown,
        // A managed save leaves the domain shut off with its memory on disk: that is a suspended instance.
        DomainState.Shutoff => hasManagedSave ? PowerState.Suspended : PowerState.Shutdown,
        DomainState.Crashed => PowerState.Crashed,
        DomainState.PMSuspended => PowerState.Suspended,
        _ => PowerState.NoState,
    };

    /// <summary>The power state a lifecycle event leads to, or null for events that change none (defined, guest shutdown finishing).</summary>
    public static PowerState? FromEvent(DomainEventType type, int detail) => type switch
    {
        DomainEventType.Started or DomainEventType.Resumed => PowerState.Running,
        DomainEventType.Suspended => PowerState.Paused,
        DomainEventType.Stopped => detail switch
        {
            2 => PowerState.Crashed,
            4 => PowerState.Suspended,
            _ => PowerState.Shutdown,
        },
        DomainEventType.PMSuspended => PowerState.Suspended,
        DomainEventType.Crashed => PowerState.Crashed,
        DomainEventType.Undefined => PowerState.NoState,
        // Shutdown: the guest finished shutting down; the Stopped event that follows carries the state.
        _ => null,
    };

    /// <summary>"stopped: destroyed", "started: booted", ... (the names of libvirt-domain.h's detail enums).</summary>
    public static string Describe(DomainEventType type, int detail)
    {
        string[] details = type switch
        {
            DomainEventType.Defined => ["added", "updated", "renamed", "from snapshot"],
            DomainEventType.Undefined => ["removed", "renamed"],
            DomainEventType.Started => ["booted", "migrated", "restored", "from snapshot", "wakeup"],
            DomainEventType.Suspended => ["paused", "migrated", "I/O error", "watchdog", "restored", "from snapshot", "API error", "post-copy", "post-copy failed"],
            DomainEventType.Resumed => ["unpaused", "migrated", "from snapshot", "post-copy", "post-copy failed"],
            DomainEventType.Stopped => ["shutdown", "destroyed", "crashed", "migrated", "saved", "failed", "from snapshot"],
            DomainEventType.Shutdown => ["finished", "guest", "host"],
            DomainEventType.PMSuspended => ["memory", "disk"],
            DomainEventType.Crashed => ["panicked", "crashloaded"],
            _ => [],
        };
        var name = type == DomainEventType.PMSuspended ? "pm-suspended" : type.ToString().ToLowerInvariant();
        return detail >= 0 && detail < details.Length ? $"{name}: {details[detail]}" : $"{name}: detail {detail}";
    }
}
