using System.Diagnostics;
using System.Globalization;
using CloudPortal.Bench.Scheduler;

// Scheduler benchmark: decisions per second and p50/p99 latency at 100, 1,000 and 10,000 hosts,
//   select         the pure HostSelector over an in-memory snapshot (filters, weighers, top-N pick)
//   select+claim   what a SelectHosts request costs on PostgreSQL: hosts from the scheduler's cache, select, claim
//                  (generation-checked), after a warm-up that lets the JIT's tiers settle as in a long-running service
//   ... x4         the same with 4 scheduler instances (4 caches) claiming in parallel on the same database
//   read every host  what the cache's background refresh reads (once a second by default)
// Usage: cloudportal-bench-scheduler [--hosts 100,1000,10000] [--postgres "Host=...;Username=...;Password=..."] [--no-db] [--quick]
var hosts = Arg("--hosts")?.Split(',').Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray() ?? [100, 1_000, 10_000];
var postgres = Arg("--postgres") ?? Environment.GetEnvironmentVariable("CLOUDPORTAL_TEST_POSTGRES") ?? "Host=127.0.0.1;Username=cloudportal;Password=cloudportal";
var withDb = !args.Contains("--no-db");
var quick = args.Contains("--quick");

var results = new List<Result>();
foreach (var count in hosts)
{
    results.Add(SelectOnly.Run(count, decisions: Scale(count, 20_000, quick)));
    if (!withDb)
        continue;
    // The same number of decisions at every size, so that p99 is the 20th-slowest of 2,000 (a quick run: of 200).
    await SelectAndClaim.RunAsync(results, postgres, count, decisions: quick ? 200 : 2_000, schedulers: 1);
    await SelectAndClaim.RunAsync(results, postgres, count, decisions: quick ? 200 : 2_000, schedulers: 4);
}

Console.WriteLine();
Console.WriteLine($"CloudPortal scheduler benchmark — {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, {(Debugger.IsAttached ? "debugger attached" : "no debugger")}");
Console.WriteLine(Result.Table(results));
return 0;

// Fewer decisions on bigger clouds, so that every row takes seconds, not minutes.
static int Scale(int hosts, int atHundred, bool quick) => Math.Max(quick ? 50 : 200, atHundred * 100 / hosts / (quick ? 10 : 1));

string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
