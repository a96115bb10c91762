using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Placement.Weighers;

/// <summary>Soft affinity: the more members of the group a host runs, the better; never excludes a host.</summary>
public sealed class ServerGroupSoftAffinityWeigher(double multiplier) : IHostWeigher
{
    public string Name => "ServerGroupSoftAffinityWeigher";

    public double Multiplier => multiplier;

    public double Weigh(HostState host, PlacementRequest request) =>
        request.ServerGroupPolicy == ServerGroupPolicies.SoftAffinity ? request.MembersOn(host.Host) : 0;
}
