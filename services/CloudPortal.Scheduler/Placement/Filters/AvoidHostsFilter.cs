namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>Skips the hosts the request asks to avoid (e.g. hosts where a build of this instance already failed).</summary>
public sealed class AvoidHostsFilter : IHostFilter
{
    public string Name => "AvoidHostsFilter";

    public FilterResult Passes(HostState host, PlacementRequest request) =>
        request.AvoidHosts.Contains(host.Host) ? FilterResult.Fail("avoided", "already tried for this instance") : FilterResult.Pass;

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected) =>
        $"no other host{request.Where} can take this instance: it was already tried on {Sentences.Count(rejected.Count, "host")}";
}
