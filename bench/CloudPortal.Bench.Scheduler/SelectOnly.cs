using System.Diagnostics;
using CloudPortal.Scheduler;
using CloudPortal.Scheduler.Placement;

namespace CloudPortal.Bench.Scheduler;

/// <summary>The pure decision: <see cref="HostSelector.Select"/> over an in-memory snapshot, consuming the chosen host's resources.</summary>
internal static class SelectOnly
{
    public static Result Run(int hosts, int decisions)
    {
        var initial = Cloud.Snapshot(hosts);
        var snapshot = initial.ToList();
        var names = snapshot.Select(h => h.Host).ToList();
        var index = names.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i);
        var selector = HostSelector.Create(new SchedulerOptions(), new Random(42));
        var random = new Random(7);

        for (var i = 0; i < Math.Min(200, decisions); i++)   // warm-up: JIT, tiered compilation
            selector.Select(snapshot, Cloud.Request(random, names));

        var latencies = new double[decisions];
        var placed = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < decisions; i++)
        {
            // Every host-count decisions, start again from the initial usage, so that the cloud never fills up and
            // the mix of placed and unschedulable stays the same whatever the number of decisions.
            if (i > 0 && i % hosts == 0)
                snapshot = initial.ToList();
            var request = Cloud.Request(random, names);
            var started = Stopwatch.GetTimestamp();
            var selection = selector.Select(snapshot, request);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!selection.Found)
                continue;
            placed++;
            var chosen = selection.Candidates[0].Host;
            snapshot[index[chosen.Host]] = chosen with
            {
                VCpu = chosen.VCpu with { Used = chosen.VCpu.Used + request.Resources.VCpus },
                MemoryMb = chosen.MemoryMb with { Used = chosen.MemoryMb.Used + request.Resources.MemoryMb },
                DiskGb = chosen.DiskGb with { Used = chosen.DiskGb.Used + request.Resources.DiskGb },
                InstanceCount = chosen.InstanceCount + 1,
            };
        }
        return new Result(hosts, "select (in-memory snapshot)", decisions, placed, total.Elapsed, latencies);
    }
}
