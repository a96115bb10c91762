using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>Affinity: once a group has members, new members go only where the members run.</summary>
public sealed class ServerGroupAffinityFilter : IHostFilter
{
    public string Name => "ServerGroupAffinityFilter";

    public FilterResult Passes(HostState host, PlacementRequest request) =>
        request.ServerGroupPolicy != ServerGroupPolicies.Affinity || request.GroupMembersByHost.Count == 0 || request.MembersOn(host.Host) > 0
            ? FilterResult.Pass
            : FilterResult.Fail("not_with_group", "runs no member of the server group (affinity)");

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected) =>
        $"this server group's affinity policy keeps its members on one host, and that host cannot take another instance{request.Where} " +
        "(disabled, down, in another zone or already tried): use a new server group";
}
