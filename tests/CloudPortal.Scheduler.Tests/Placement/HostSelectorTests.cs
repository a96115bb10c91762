using CloudPortal.Scheduler.Placement;
using Xunit;
using static CloudPortal.Scheduler.Tests.Placement.TestHosts;

namespace CloudPortal.Scheduler.Tests.Placement;

public sealed class HostSelectorTests
{
    // Free RAM 8, 16, 24, ... 80 GB: node-10 is the best when spreading.
    private static readonly IReadOnlyList<HostState> Hosts =
        Enumerable.Range(1, 10).Select(i => Host($"node-{i:00}", memoryMb: 81920, usedMemoryMb: 81920 - i * 8192)).ToList();

    [Fact]
    public void With_a_subset_of_one_the_best_host_is_primary_and_the_next_best_follow()
    {
        var selection = Selector(hostSubsetSize: 1).Select(Hosts, Request());

        Assert.True(selection.Found);
        Assert.Equal(["node-10", "node-09", "node-08", "node-07"], selection.Candidates.Take(4).Select(c => c.Host.Host));
        Assert.Null(selection.Explanation.Reason);
    }

    [Fact]
    public void The_same_seed_gives_the_same_choice()
    {
        var first = Enumerable.Range(0, 20).Select(seed => Selector(hostSubsetSize: 4, seed: seed).Select(Hosts, Request()).Candidates[0].Host.Host).ToList();
        var again = Enumerable.Range(0, 20).Select(seed => Selector(hostSubsetSize: 4, seed: seed).Select(Hosts, Request()).Candidates[0].Host.Host).ToList();

        Assert.Equal(first, again);
    }

    [Fact]
    public void The_primary_is_random_among_the_top_N_only()
    {
        var selector = Selector(hostSubsetSize: 3, seed: 7);

        var primaries = Enumerable.Range(0, 300).Select(_ => selector.Select(Hosts, Request()).Candidates[0].Host.Host).ToHashSet();

        Assert.Equal(new HashSet<string> { "node-10", "node-09", "node-08" }, primaries);
    }

    [Fact]
    public void Candidates_after_the_primary_stay_in_weight_order()
    {
        var selector = Selector(hostSubsetSize: 3, seed: 3);

        for (var i = 0; i < 20; i++)
        {
            var candidates = selector.Select(Hosts, Request()).Candidates.Select(c => c.Host.Host).ToList();
            var rest = candidates.Skip(1).ToList();
            Assert.Equal(rest.OrderByDescending(h => h, StringComparer.Ordinal), rest);
            Assert.Equal(candidates.Count, candidates.Distinct().Count());
        }
    }

    [Fact]
    public void Ties_go_to_the_lower_host_name()
    {
        var equal = new[] { Host("c"), Host("a"), Host("b") };

        Assert.Equal(["a", "b", "c"], Selector().Select(equal, Request()).Candidates.Select(c => c.Host.Host));
    }

    [Fact]
    public void Filtered_hosts_are_never_candidates()
    {
        var hosts = Hosts.Append(Host("node-99", memoryMb: 1_000_000, enabled: false)).ToList();

        var selection = Selector().Select(hosts, Request());

        Assert.DoesNotContain(selection.Candidates, c => c.Host.Host == "node-99");
        Assert.Equal(1, selection.Explanation.Filters.Single(f => f.Filter == "EnabledAndUpFilter").Removed);
    }

    [Fact]
    public void The_top_candidates_match_a_full_sort_of_many_hosts()
    {
        var random = new Random(5);
        var hosts = Enumerable.Range(0, 2000).Select(i => Host($"h{i:0000}", vCpus: random.Next(4, 64), memoryMb: 131072,
            usedMemoryMb: random.Next(0, 100) * 1024, usedVCpus: random.Next(0, 16), instances: random.Next(0, 20))).ToList();
        var selector = Selector();

        var all = selector.Weigh(hosts, Request());
        var top = selector.Select(hosts, Request()).Candidates;

        Assert.Equal(all.Take(top.Count).Select(w => w.Host.Host), top.Select(c => c.Host.Host));
        Assert.Equal(all.OrderByDescending(w => w.Weight).ThenBy(w => w.Host.Host, StringComparer.Ordinal).Select(w => w.Host.Host), all.Select(w => w.Host.Host));
    }

    [Fact]
    public void Stacking_fills_the_fullest_host_first()
    {
        var options = new SchedulerOptions { RamWeightMultiplier = -1.0, CpuWeightMultiplier = 0, InstanceCountWeightMultiplier = 0 };

        var selection = Selector(options: options).Select(Hosts, Request());

        Assert.Equal("node-01", selection.Candidates[0].Host.Host);
    }
}
