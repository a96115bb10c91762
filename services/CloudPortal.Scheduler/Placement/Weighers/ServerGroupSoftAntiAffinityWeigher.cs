using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Placement.Weighers;

/// <summary>Soft anti-affinity: the fewer members of the group a host runs, the better; never excludes a host.</summary>
public sealed class ServerGroupSoftAntiAffinityWeigher(double multiplier) : IHostWeigher
{
    public string Name => "ServerGroupSoftAntiAffinityWeigher";

    public double Multiplier => multiplier;

    public double Weigh(HostState host, PlacementRequest request) =>
        request.ServerGroupPolicy == ServerGroupPolicies.SoftAntiAffinity ? -request.MembersOn(host.Host) : 0;
}
