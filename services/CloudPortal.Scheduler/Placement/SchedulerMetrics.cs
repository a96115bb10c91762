using System.Diagnostics.Metrics;

namespace CloudPortal.Scheduler.Placement;

/// <summary>
/// The Scheduler's own metrics (meter <c>CloudPortal.Scheduler</c>): how placements end, and how often claims lose
/// a race on a host's generation (a rising rate means parallel schedulers keep picking the same hosts: raise
/// <see cref="SchedulerOptions.HostSubsetSize"/>).
/// </summary>
public static class SchedulerMetrics
{
    public const string MeterName = "CloudPortal.Scheduler";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Placements = Meter.CreateCounter<long>("cloudportal.scheduler.placements", description: "Placement requests answered, by result (selected, unschedulable)");

    public static readonly Counter<long> ClaimConflicts = Meter.CreateCounter<long>("cloudportal.scheduler.claim_conflicts", description: "Claims that found the host's generation moved and read it again");

    public static readonly Histogram<double> DecisionDuration = Meter.CreateHistogram<double>("cloudportal.scheduler.decision.duration", unit: "s", description: "Time to answer one placement request, claim included");
}
