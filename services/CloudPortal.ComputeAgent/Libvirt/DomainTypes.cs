namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>virDomainState.</summary>
public enum DomainState
{
    NoState = 0,
    Running = 1,
    Blocked = 2,
    Paused = 3,
    /// <summary>Being shut down.</summary>
    Shutdown = 4,
    Shutoff = 5,
    Crashed = 6,
    /// <summary>Suspended by guest power management.</summary>
    PMSuspended = 7,
}

/// <summary>virDomainInfo. Memory in KiB; CPU time in nanoseconds.</summary>
public sealed record DomainInfo(DomainState State, ulong MaxMemoryKiB, ulong MemoryKiB, ushort VirtualCpus, ulong CpuTimeNs);

/// <summary>
/// The state and why the domain is in it. <paramref name="Reason"/> belongs to the state's own reason enum in
/// libvirt-domain.h (for <see cref="DomainState.Shutoff"/>: 1 shutdown, 2 destroyed, 3 crashed, 5 saved, ...).
/// </summary>
public readonly record struct DomainStateInfo(DomainState State, int Reason);

/// <summary>virDomainDefineFlags.</summary>
[Flags]
public enum DomainDefineFlags
{
    None = 0,
    /// <summary>Validate the XML against libvirt's schema.</summary>
    Validate = 1 << 0,
}

/// <summary>virDomainCreateFlags.</summary>
[Flags]
public enum DomainStartFlags
{
    None = 0,
    Paused = 1 << 0,
    /// <summary>Destroy the domain when the connection that started it closes.</summary>
    AutoDestroy = 1 << 1,
    BypassCache = 1 << 2,
    /// <summary>Boot afresh, discarding any managed save image.</summary>
    ForceBoot = 1 << 3,
    Validate = 1 << 4,
    ResetNvram = 1 << 5,
}

/// <summary>virDomainShutdownFlagValues.</summary>
[Flags]
public enum DomainShutdownFlags
{
    /// <summary>The hypervisor chooses.</summary>
    Default = 0,
    AcpiPowerButton = 1 << 0,
    GuestAgent = 1 << 1,
    Initctl = 1 << 2,
    Signal = 1 << 3,
    Paravirt = 1 << 4,
}

/// <summary>virDomainRebootFlagValues.</summary>
[Flags]
public enum DomainRebootFlags
{
    Default = 0,
    AcpiPowerButton = 1 << 0,
    GuestAgent = 1 << 1,
    Initctl = 1 << 2,
    Signal = 1 << 3,
    Paravirt = 1 << 4,
}

/// <summary>virDomainDestroyFlagsValues.</summary>
[Flags]
public enum DomainDestroyFlags
{
    /// <summary>SIGTERM, then SIGKILL if the process does not exit.</summary>
    Default = 0,
    /// <summary>SIGTERM only: fails rather than risk losing unflushed guest data.</summary>
    Graceful = 1 << 0,
    RemoveLogs = 1 << 1,
}

/// <summary>virDomainSaveRestoreFlags.</summary>
[Flags]
public enum DomainSaveFlags
{
    None = 0,
    BypassCache = 1 << 0,
    /// <summary>Restore running, whatever the state at save time.</summary>
    Running = 1 << 1,
    /// <summary>Restore paused.</summary>
    Paused = 1 << 2,
}

/// <summary>virDomainUndefineFlagsValues.</summary>
[Flags]
public enum DomainUndefineFlags
{
    None = 0,
    ManagedSave = 1 << 0,
    SnapshotsMetadata = 1 << 1,
    Nvram = 1 << 2,
    KeepNvram = 1 << 3,
    CheckpointsMetadata = 1 << 4,
    Tpm = 1 << 5,
    KeepTpm = 1 << 6,
}

/// <summary>virDomainXMLFlags.</summary>
[Flags]
public enum DomainXmlFlags
{
    None = 0,
    /// <summary>Include security-sensitive data (passwords).</summary>
    Secure = 1 << 0,
    /// <summary>The persistent definition rather than the live configuration.</summary>
    Inactive = 1 << 1,
    UpdateCpu = 1 << 2,
    Migratable = 1 << 3,
}

/// <summary>virConnectListAllDomainsFlags: filters within a group are OR-ed, groups are AND-ed.</summary>
[Flags]
public enum DomainListFlags
{
    None = 0,
    Active = 1 << 0,
    Inactive = 1 << 1,
    Persistent = 1 << 2,
    Transient = 1 << 3,
    Running = 1 << 4,
    Paused = 1 << 5,
    Shutoff = 1 << 6,
    Other = 1 << 7,
    ManagedSave = 1 << 8,
    NoManagedSave = 1 << 9,
    Autostart = 1 << 10,
    NoAutostart = 1 << 11,
    HasSnapshot = 1 << 12,
    NoSnapshot = 1 << 13,
    HasCheckpoint = 1 << 14,
    NoCheckpoint = 1 << 15,
}
