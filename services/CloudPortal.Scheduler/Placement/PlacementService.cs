using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Placement;

/// <summary>The answer to one placement request: a claimed host, or why there is none.</summary>
public sealed record PlacementOutcome(HostsSelected? Selected, NoValidHost? Unschedulable, PlacementExplanation? Explanation);

/// <summary>
/// The I/O around the pure <see cref="HostSelector"/>: take the hosts from the cache, select, claim on the best host,
/// fall back to the next ones when the claim loses a race, and read a fresh snapshot when every candidate was taken
/// or when the cached view has no host for the request.
/// </summary>
public sealed class PlacementService(SchedulerDbContext db, ClaimService claims, HostStateCache cache, HostSelector selector, IOptions<SchedulerOptions> options, TimeProvider time)
{
    private readonly SchedulerOptions _options = options.Value;

    public async Task<PlacementOutcome> SelectAsync(PlacementRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = time.GetTimestamp();
        var outcome = await PlaceAsync(request, cancellationToken);
        SchedulerMetrics.DecisionDuration.Record(time.GetElapsedTime(started).TotalSeconds);
        SchedulerMetrics.Placements.Add(1, new KeyValuePair<string, object?>("result", outcome.Selected is null ? "unschedulable" : "selected"));
        return outcome;
    }

    private async Task<PlacementOutcome> PlaceAsync(PlacementRequest request, CancellationToken cancellationToken)
    {
        // A resize or a reschedule moves what the consumer holds. A new request needs no lookup: if it is a redelivery,
        // the allocation's key refuses the second claim and the claim answers with the first.
        var held = request.Resize || request.AvoidHosts.Count > 0
            ? await db.Allocations.AsNoTracking().SingleOrDefaultAsync(a => a.ConsumerId == request.ConsumerId, cancellationToken)
            : null;
        if (held is not null && !request.AvoidHosts.Contains(held.Host) && (!request.Resize || held.Resources == request.Resources))
            return Selected(request, held.Host, [], held.Resources);

        var group = request is { ServerGroupId: { } groupId, ServerGroupPolicy: { } policy } ? new ServerGroupRule(groupId, policy) : null;
        PlacementExplanation? last = null;
        var fresh = false;
        for (var round = 1; round <= Math.Max(1, _options.PlacementRounds);)
        {
            var view = await cache.GetAsync(db, fresh, cancellationToken);
            if (group is not null)
                request = await WithClaimedMembersAsync(request, group.GroupId, cancellationToken);
            var hosts = view.Hosts;
            if (held is not null)
                hosts = hosts.Select(h => h.Host == held.Host ? h.Without(held.Resources) : h).ToList();
            var selection = selector.Select(hosts, request);
            last = selection.Explanation;
            if (!selection.Found && !view.Fresh)
            {
                // The cache may be behind (a host added, enabled or freed elsewhere): "no valid host" rests on a fresh read.
                fresh = true;
                continue;
            }
            if (!selection.Found)
                return Unschedulable(request, selection.Explanation);

            for (var i = 0; i < selection.Candidates.Count; i++)
            {
                var candidate = selection.Candidates[i].Host;
                var claim = held is null
                    ? await claims.ClaimAsync(request.ConsumerId, request.ProjectId, candidate.Host, request.Resources, candidate, group, cancellationToken)
                    : await claims.ReplaceAsync(request.ConsumerId, request.ProjectId, candidate.Host, request.Resources, group, cancellationToken);
                if (claim.Provider is not null)
                    cache.Update(claim.Provider);
                if (held is not null && held.Host != candidate.Host && claim.Status == ClaimStatus.Claimed)
                    cache.Invalidate();   // the host it left was given back its share
                if (claim.Status == ClaimStatus.AlreadyHeld)
                    return Selected(request, claim.Host, [], claim.Resources!);
                if (claim.Status == ClaimStatus.Claimed)
                {
                    var alternates = selection.Candidates.Skip(i + 1).Take(_options.Alternates).Select(c => c.Host.Host).ToList();
                    return Selected(request, candidate.Host, alternates, request.Resources) with { Explanation = selection.Explanation };
                }
                // Rejected or contended: our view was stale for this host; the next candidate may still fit.
            }
            fresh = true;
            round++;
        }
        // Every candidate of every fresh snapshot was taken by concurrent claims.
        return Unschedulable(request, last! with
        {
            Reason = "the hosts that could take this instance were all claimed by other requests while it was being placed: try again",
        });
    }

    /// <summary>
    /// Compute's view of where a group's members run, completed with the members this scheduler has claimed for (a
    /// sibling placed a moment ago may not have reached Compute's view yet): per host, the larger count wins.
    /// </summary>
    private async Task<PlacementRequest> WithClaimedMembersAsync(PlacementRequest request, Guid groupId, CancellationToken cancellationToken)
    {
        var claimed = await db.Allocations.AsNoTracking().Where(a => a.ServerGroupId == groupId && a.ConsumerId != request.ConsumerId)
            .GroupBy(a => a.Host).Select(g => new { Host = g.Key, Members = g.Count() }).ToListAsync(cancellationToken);
        if (claimed.Count == 0)
            return request;
        var members = new Dictionary<string, int>(request.GroupMembersByHost, StringComparer.Ordinal);
        foreach (var host in claimed)
            members[host.Host] = Math.Max(members.GetValueOrDefault(host.Host), host.Members);
        return request with { GroupMembersByHost = members };
    }

    /// <summary>How many of each flavor would fit on the free capacity now (nothing is claimed).</summary>
    public async Task<FitReport> CheckFitAsync(CheckFit request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        // A fit check is advice for the launch wizard: the cached view (at most a few seconds behind) is good enough.
        var hosts = (await cache.GetAsync(db, fresh: false, cancellationToken)).Hosts;
        var fits = request.Flavors.Select(f => FitCheck.Count(selector, hosts, request.ProjectId, request.AvailabilityZone, f)).ToList();
        return new FitReport(request.ProjectId, request.AvailabilityZone, fits, now);
    }

    private static PlacementOutcome Selected(PlacementRequest request, string host, IReadOnlyList<string> alternates, PlacementResources resources) =>
        new(new HostsSelected(request.ConsumerId, host, alternates, resources), null, null);

    private static PlacementOutcome Unschedulable(PlacementRequest request, PlacementExplanation explanation) =>
        new(null, new NoValidHost(request.ConsumerId, explanation.Reason ?? "no host can take this instance", explanation.HostsConsidered, explanation.Filters, explanation.Hosts), explanation);
}
