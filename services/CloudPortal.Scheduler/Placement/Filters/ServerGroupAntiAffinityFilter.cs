using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>Anti-affinity: no two members of the group on one host.</summary>
public sealed class ServerGroupAntiAffinityFilter : IHostFilter
{
    public string Name => "ServerGroupAntiAffinityFilter";

    public FilterResult Passes(HostState host, PlacementRequest request)
    {
        if (request.ServerGroupPolicy != ServerGroupPolicies.AntiAffinity)
            return FilterResult.Pass;
        var members = request.MembersOn(host.Host);
        return members == 0 ? FilterResult.Pass : FilterResult.Fail("with_group", $"runs {Sentences.Count(members, "member")} of the server group (anti-affinity)");
    }

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected) =>
        $"every available host{request.Where} already runs a member of this server group (anti-affinity, {Sentences.Count(rejected.Count, "host")}): " +
        "use a soft-anti-affinity group or fewer members";
}
