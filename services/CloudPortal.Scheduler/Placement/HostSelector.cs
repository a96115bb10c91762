using CloudPortal.Contracts.Scheduler;
using CloudPortal.Scheduler.Placement.Filters;
using CloudPortal.Scheduler.Placement.Weighers;

namespace CloudPortal.Scheduler.Placement;

public sealed record WeighedHost(HostState Host, double Weight);

/// <summary>Why the hosts were (or were not) chosen: every filter with its eliminations, and a sentence when none is left.</summary>
/// <param name="Reason">Null when a host was found.</param>
public sealed record PlacementExplanation(string? Reason, int HostsConsidered, IReadOnlyList<FilterElimination> Filters, IReadOnlyList<HostRejection> Hosts);

/// <summary>The outcome of <see cref="HostSelector.Select"/>: the hosts to try claiming on, best first, and the explanation.</summary>
public sealed record Selection(IReadOnlyList<WeighedHost> Candidates, PlacementExplanation Explanation)
{
    public bool Found => Candidates.Count > 0;
}

/// <summary>The hosts that passed every filter, and the explanation of the ones that did not.</summary>
public sealed record FilterPass(IReadOnlyList<HostState> Passed, PlacementExplanation Explanation);

/// <summary>
/// Placement as a pure function of a snapshot: filter, weigh, then pick at random among the best
/// <c>hostSubsetSize</c> hosts, so parallel schedulers working from the same snapshot rarely pick the same host.
/// No I/O; given the same snapshot, request and seed, the answer is the same.
/// </summary>
public sealed class HostSelector
{
    private readonly Random _random;
    private readonly int _hostSubsetSize;
    private readonly int _candidates;

    /// <param name="hostSubsetSize">Pick the primary at random among this many best hosts (1 = always the best).</param>
    /// <param name="candidates">How many hosts, best first, a selection returns (the primary, alternates and fallbacks for the claim).</param>
    /// <param name="random">Thread-safe when the selector is shared (<see cref="Random.Shared"/>); a seeded one for tests.</param>
    public HostSelector(IReadOnlyList<IHostFilter> filters, IReadOnlyList<IHostWeigher> weighers, int hostSubsetSize, int candidates, Random random)
    {
        Filters = filters;
        Weighers = weighers;
        _hostSubsetSize = Math.Max(1, hostSubsetSize);
        _candidates = Math.Max(_hostSubsetSize, candidates);
        _random = random;
    }

    public IReadOnlyList<IHostFilter> Filters { get; }

    public IReadOnlyList<IHostWeigher> Weighers { get; }

    /// <summary>The default pipeline: cheap filters first, capacity last, so the last filter to empty the list explains best.</summary>
    public static HostSelector Create(SchedulerOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new HostSelector(DefaultFilters(),
            [
                new FreeRamWeigher(options.RamWeightMultiplier),
                new FreeVCpuWeigher(options.CpuWeightMultiplier),
                new InstanceCountWeigher(options.InstanceCountWeightMultiplier),
                new ServerGroupSoftAffinityWeigher(options.SoftAffinityWeightMultiplier),
                new ServerGroupSoftAntiAffinityWeigher(options.SoftAntiAffinityWeightMultiplier),
            ],
            options.HostSubsetSize, options.HostSubsetSize + options.Alternates + 5, random);
    }

    public static IReadOnlyList<IHostFilter> DefaultFilters() =>
    [
        new AvailabilityZoneFilter(),
        new EnabledAndUpFilter(),
        new AvoidHostsFilter(),
        new ImagePropertiesFilter(),
        new AggregateMetadataFilter(),
        new ServerGroupAffinityFilter(),
        new ServerGroupAntiAffinityFilter(),
        new CapacityFilter(),
    ];

    public Selection Select(IReadOnlyList<HostState> hosts, PlacementRequest request)
    {
        var pass = Filter(hosts, request);
        if (pass.Passed.Count == 0)
            return new Selection([], pass.Explanation);
        var best = Best(pass.Passed, request, _candidates);
        // Random among the top N cuts collisions between parallel schedulers; the rest stay in weight order.
        var pick = _random.Next(Math.Min(_hostSubsetSize, best.Count));
        if (pick > 0)
        {
            var chosen = best[pick];
            best.RemoveAt(pick);
            best.Insert(0, chosen);
        }
        return new Selection(best, pass.Explanation);
    }

    /// <summary>Runs the filters (all of this selector's, or the ones given) in order; each host is charged to the first filter that removes it.</summary>
    public FilterPass Filter(IReadOnlyList<HostState> hosts, PlacementRequest request, IReadOnlyList<IHostFilter>? filters = null)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(request);
        filters ??= Filters;
        var remaining = hosts;
        var table = new List<FilterElimination>(filters.Count);
        var rejections = new List<HostRejection>();
        string? reason = hosts.Count == 0 ? "no compute host has reported to the scheduler yet: ask your administrator" : null;
        foreach (var filter in filters)
        {
            var passed = new List<HostState>(remaining.Count);
            List<Rejection>? rejected = null;
            foreach (var host in remaining)
            {
                var result = filter.Passes(host, request);
                if (result.Passed)
                    passed.Add(host);
                else
                    (rejected ??= []).Add(new Rejection(host, result));
            }
            rejected ??= [];
            table.Add(new FilterElimination(filter.Name, remaining.Count, rejected.Count,
                rejected.GroupBy(r => r.Result.Code ?? "rejected", StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => $"{g.Key}: {g.Count()}").ToList()));
            rejections.AddRange(rejected.Select(r => new HostRejection(r.Host.Host, filter.Name, r.Result.Reason ?? "")));
            if (passed.Count == 0 && rejected.Count > 0)
                reason = filter.Explain(request, rejected);
            remaining = passed;
        }
        return new FilterPass(remaining, new PlacementExplanation(remaining.Count == 0 ? reason : null, hosts.Count, table, rejections));
    }

    /// <summary>Every host scored (sum of normalised weigher scores × multipliers), best first; ties go to the lower host name.</summary>
    public IReadOnlyList<WeighedHost> Weigh(IReadOnlyList<HostState> hosts, PlacementRequest request) => Best(hosts, request, hosts.Count);

    /// <summary>The <paramref name="count"/> best hosts, best first, in O(hosts × log count).</summary>
    private List<WeighedHost> Best(IReadOnlyList<HostState> hosts, PlacementRequest request, int count)
    {
        var weights = Scores(hosts, request);
        var kept = new PriorityQueue<int, int>(count + 1, Comparer<int>.Create((a, b) => Compare(hosts, weights, a, b)));
        for (var i = 0; i < hosts.Count; i++)
        {
            if (kept.Count < count)
                kept.Enqueue(i, i);
            else if (Compare(hosts, weights, i, kept.Peek()) > 0)
                kept.DequeueEnqueue(i, i);
        }
        var best = new List<WeighedHost>(kept.Count);
        while (kept.TryDequeue(out var index, out _))
            best.Add(new WeighedHost(hosts[index], weights[index]));
        best.Reverse();
        return best;
    }

    // Positive when host a ranks above host b.
    private static int Compare(IReadOnlyList<HostState> hosts, double[] weights, int a, int b)
    {
        var byWeight = weights[a].CompareTo(weights[b]);
        return byWeight != 0 ? byWeight : string.CompareOrdinal(hosts[b].Host, hosts[a].Host);
    }

    private double[] Scores(IReadOnlyList<HostState> hosts, PlacementRequest request)
    {
        var total = new double[hosts.Count];
        var raw = new double[hosts.Count];
        foreach (var weigher in Weighers)
        {
            if (weigher.Multiplier == 0)
                continue;
            double min = double.MaxValue, max = double.MinValue;
            for (var i = 0; i < hosts.Count; i++)
            {
                raw[i] = weigher.Weigh(hosts[i], request);
                min = Math.Min(min, raw[i]);
                max = Math.Max(max, raw[i]);
            }
            // Normalised to 0..1 so that multipliers, not units (MB vs vCPUs), set each weigher's influence.
            if (max <= min)
                continue;
            for (var i = 0; i < hosts.Count; i++)
                total[i] += weigher.Multiplier * (raw[i] - min) / (max - min);
        }
        return total;
    }
}
