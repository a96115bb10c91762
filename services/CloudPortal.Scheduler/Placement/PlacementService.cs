using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Placement;

/// <summary>The answer to one placement request: a claimed host, or why there is none.</summary>
public sealed record PlacementOutcome(HostsSelected? Selected, NoValidHost? Unschedulable, PlacementExplanation? Explanation);

/// <summary>
/// The I/O around the pure <see cref="HostSelector"/>: read a snapshot, select, claim on the best host, fall back to
/// the next ones when the claim loses a race, and read a fresh snapshot when every candidate was taken.
/// </summary>
public sealed class PlacementService(SchedulerDbContext db, ClaimService claims, HostSelector selector, IOptions<SchedulerOptions> options, TimeProvider time)
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
        var held = await db.Allocations.AsNoTracking().SingleOrDefaultAsync(a => a.ConsumerId == request.ConsumerId, cancellationToken);
        // A redelivered request finds its own claim: answer it again rather than claim twice.
        if (held is not null && !request.AvoidHosts.Contains(held.Host) && (!request.Resize || held.Resources == request.Resources))
            return Selected(request, held.Host, [], held.Resources);

        PlacementExplanation? last = null;
        for (var round = 1; round <= Math.Max(1, _options.PlacementRounds); round++)
        {
            var hosts = await HostSnapshot.LoadAsync(db, time.GetUtcNow().UtcDateTime, _options.NodeDownAfter, cancellationToken);
            if (held is not null)
                hosts = hosts.Select(h => h.Host == held.Host ? h.Without(held.Resources) : h).ToList();
            var selection = selector.Select(hosts, request);
            last = selection.Explanation;
            if (!selection.Found)
                return Unschedulable(request, selection.Explanation);

            for (var i = 0; i < selection.Candidates.Count; i++)
            {
                var host = selection.Candidates[i].Host.Host;
                var claim = held is null
                    ? await claims.ClaimAsync(request.ConsumerId, request.ProjectId, host, request.Resources, cancellationToken)
                    : await claims.ReplaceAsync(request.ConsumerId, request.ProjectId, host, request.Resources, cancellationToken);
                if (claim.Status == ClaimStatus.AlreadyHeld)
                    return Selected(request, claim.Host, [], claim.Resources!);
                if (claim.Status == ClaimStatus.Claimed)
                {
                    var alternates = selection.Candidates.Skip(i + 1).Take(_options.Alternates).Select(c => c.Host.Host).ToList();
                    return Selected(request, host, alternates, request.Resources) with { Explanation = selection.Explanation };
                }
                // Rejected or contended: our snapshot was stale for this host; the next candidate may still fit.
            }
        }
        // Every candidate of every fresh snapshot was taken by concurrent claims.
        return Unschedulable(request, last! with
        {
            Reason = "the hosts that could take this instance were all claimed by other requests while it was being placed: try again",
        });
    }

    /// <summary>How many of each flavor would fit on the free capacity now (nothing is claimed).</summary>
    public async Task<FitReport> CheckFitAsync(CheckFit request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var hosts = await HostSnapshot.LoadAsync(db, now.UtcDateTime, _options.NodeDownAfter, cancellationToken);
        var fits = request.Flavors.Select(f => FitCheck.Count(selector, hosts, request.ProjectId, request.AvailabilityZone, f)).ToList();
        return new FitReport(request.ProjectId, request.AvailabilityZone, fits, now);
    }

    private static PlacementOutcome Selected(PlacementRequest request, string host, IReadOnlyList<string> alternates, PlacementResources resources) =>
        new(new HostsSelected(request.ConsumerId, host, alternates, resources), null, null);

    private static PlacementOutcome Unschedulable(PlacementRequest request, PlacementExplanation explanation) =>
        new(null, new NoValidHost(request.ConsumerId, explanation.Reason ?? "no host can take this instance", explanation.HostsConsidered, explanation.Filters, explanation.Hosts), explanation);
}
