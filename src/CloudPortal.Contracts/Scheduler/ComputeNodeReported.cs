namespace CloudPortal.Contracts.Scheduler;

/// <summary>
/// A compute agent's report of its node: sent on start and then as a heartbeat. The Scheduler keeps the
/// latest report per host; a host whose reports stop is considered down.
/// </summary>
/// <param name="Host">The node's name, unique in the cloud (the agent's <c>--host</c>).</param>
/// <param name="CapacitySource"><c>libvirt</c> when read from the hypervisor, <c>os</c> when libvirt was unreachable.</param>
/// <param name="Simulated">True when the node runs libvirt's test driver, not a real hypervisor.</param>
public sealed record ComputeNodeReported(
    string Host,
    int VCpus,
    long MemoryMb,
    long DiskGb,
    string HypervisorType,
    string? HypervisorVersion,
    string? CpuModel,
    string CapacitySource,
    bool Simulated,
    DateTimeOffset ReportedAt);
