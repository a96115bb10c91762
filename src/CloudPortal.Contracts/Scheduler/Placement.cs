namespace CloudPortal.Contracts.Scheduler;

/// <summary>What one instance consumes on its host.</summary>
public sealed record PlacementResources(int VCpus, long MemoryMb, long DiskGb);

/// <summary>The server group policies (Nova's names).</summary>
public static class ServerGroupPolicies
{
    public const string Affinity = "affinity";
    public const string AntiAffinity = "anti-affinity";
    public const string SoftAffinity = "soft-affinity";
    public const string SoftAntiAffinity = "soft-anti-affinity";
}

/// <summary>
/// The server group an instance joins. Compute owns server groups; it sends the policy and where the
/// group's other members already run.
/// </summary>
/// <param name="Policy">One of <see cref="ServerGroupPolicies"/>.</param>
/// <param name="MemberHosts">The host of every other member, once per member (a host appears as often as it runs members).</param>
public sealed record ServerGroupPlacement(Guid GroupId, string Policy, IReadOnlyList<string> MemberHosts);

/// <summary>
/// Request (→ <see cref="HostsSelected"/> or <see cref="NoValidHost"/>): choose a host for one instance and
/// claim its resources there. Idempotent per <paramref name="ConsumerId"/>: asking again for a consumer that
/// already holds a claim answers with that claim.
/// </summary>
/// <param name="ConsumerId">Whose claim this is: the instance id.</param>
/// <param name="AvailabilityZone">Only hosts in this zone; null for any zone.</param>
/// <param name="ImageProperties">The image's properties; the scheduler reads <c>hw_architecture</c>, <c>img_hv_type</c> and <c>hw_vm_mode</c>.</param>
/// <param name="FlavorExtraSpecs">The flavor's extra specs; <c>aggregate_instance_extra_specs:KEY=VALUE</c> must match the metadata of one of the host's aggregates.</param>
/// <param name="AvoidHosts">Hosts not to use, e.g. the ones a failed build already tried.</param>
/// <param name="Resize">
/// True to replace the consumer's current claim (resize): the new amounts are claimed on the chosen host and the
/// old claim is released in the same transaction. On the current host only the difference has to fit.
/// </param>
public sealed record SelectHosts(
    Guid ConsumerId,
    Guid ProjectId,
    PlacementResources Resources,
    string? AvailabilityZone = null,
    ServerGroupPlacement? ServerGroup = null,
    IReadOnlyDictionary<string, string>? ImageProperties = null,
    IReadOnlyDictionary<string, string>? FlavorExtraSpecs = null,
    IReadOnlyList<string>? AvoidHosts = null,
    bool Resize = false);

/// <summary>Response to <see cref="SelectHosts"/>: the resources are claimed on <paramref name="Host"/>.</summary>
/// <param name="Alternates">The next best hosts, not claimed, to try when the build on <paramref name="Host"/> fails.</param>
public sealed record HostsSelected(Guid ConsumerId, string Host, IReadOnlyList<string> Alternates, PlacementResources Claimed);

/// <summary>
/// Response to <see cref="SelectHosts"/>: no host can take the instance.
/// </summary>
/// <param name="Reason">One sentence a tenant can act on, without host names (e.g. "no host in az-1 has 16384 MB RAM free: largest free is 8192 MB").</param>
/// <param name="Filters">Every filter in order, with how many hosts it removed and why (no host names; safe to show tenants).</param>
/// <param name="Hosts">Admin only: every rejected host, the filter that rejected it and why.</param>
public sealed record NoValidHost(
    Guid ConsumerId,
    string Reason,
    int HostsConsidered,
    IReadOnlyList<FilterElimination> Filters,
    IReadOnlyList<HostRejection> Hosts);

/// <param name="HostsBefore">Hosts that reached this filter.</param>
/// <param name="Removed">Hosts this filter removed.</param>
/// <param name="Reasons">Why, grouped: e.g. <c>"disabled: 2"</c>, <c>"down: 1"</c>.</param>
public sealed record FilterElimination(string Filter, int HostsBefore, int Removed, IReadOnlyList<string> Reasons);

/// <summary>One host a filter removed (admin only: names hosts).</summary>
public sealed record HostRejection(string Host, string Filter, string Reason);
