using System.Globalization;
using System.Text;
using System.Text.Json;
using CloudPortal.Bench.Common;

namespace CloudPortal.Bench.Ec2;

/// <summary>One phase of the driver against one target: its measured calls, and what the server said about them.</summary>
internal sealed class PhaseResult
{
    /// <summary>Per measured call that succeeded: the boto3 call's ms, and its HTTP part (send to body read; null if botocore cannot say).</summary>
    public List<(double Call, double? Http)> Calls { get; init; } = [];

    public Dictionary<string, int> Errors { get; init; } = [];

    public List<string> WarmupErrors { get; init; } = [];

    public double WallSeconds { get; init; }

    public double ClientCpuSeconds { get; init; }

    /// <summary>The server's CPU seconds between the driver's window marks.</summary>
    public double? ServerCpuSeconds { get; set; }

    /// <summary>The server's own account of the measured requests (CloudPortal with its request log on).</summary>
    public List<ServerRequest>? Server { get; set; }

    public string InstancesPerResponse { get; init; } = "";

    public int Processes { get; init; } = 1;

    public string? Failure { get; init; }

    public int Attempts => Calls.Count + Errors.Values.Sum();

    public static PhaseResult From(JsonElement json) => new()
    {
        Calls = json.GetProperty("samples").EnumerateArray()
            .Select(s => (s[0].GetDouble(), s[1].ValueKind == JsonValueKind.Null ? (double?)null : s[1].GetDouble())).ToList(),
        Errors = json.GetProperty("errors").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetInt32()),
        WarmupErrors = json.TryGetProperty("warmupErrors", out var warmup) ? warmup.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [],
        WallSeconds = json.GetProperty("wallSeconds").GetDouble(),
        ClientCpuSeconds = json.GetProperty("clientCpuSeconds").GetDouble(),
        InstancesPerResponse = json.TryGetProperty("instancesPerResponse", out var counts) ? string.Join(", ", counts.EnumerateArray().Select(c => c.GetInt32())) : "",
        Processes = json.TryGetProperty("processes", out var processes) ? processes.GetInt32() : 1,
    };
}

internal sealed class TargetResult(string name)
{
    public string Name { get; } = name;

    public PhaseResult? Run { get; set; }

    public PhaseResult? Describe { get; set; }

    /// <summary>How long the server took after the wait to go quiet (the launches' aftermath).</summary>
    public double? SettleSeconds { get; set; }

    /// <summary>Cores the server kept busy with the instances in place and no calls (measured after the wait).</summary>
    public double? IdleCores { get; set; }

    /// <summary>The instances' states after the wait, as DescribeInstances had them.</summary>
    public string? States { get; set; }
}

internal static class Report
{
    private const double DescribeRatioTarget = 20;
    private const double DescribeServerP99Target = 50;
    private const double RunP99Target = 100;

    public static string Table(IReadOnlyList<TargetResult> results)
    {
        string[] headers = ["target", "operation", "requests", "errors", "req/s", "p50 ms", "p99 ms", "HTTP p50 ms", "HTTP p99 ms", "server p50 ms", "server p99 ms", "cores busy server / client"];
        var rows = new List<string[]>();
        foreach (var result in results)
        {
            foreach (var (operation, phase) in new[] { ("RunInstances", result.Run), ("DescribeInstances", result.Describe) })
            {
                if (phase is null)
                    continue;
                if (phase.Failure is not null || phase.Calls.Count == 0)
                {
                    rows.Add([result.Name, operation, "0", Count(phase.Errors.Values.Sum()), "-", "-", "-", "-", "-", "-", "-", phase.Failure is null ? "no call succeeded" : "failed: see below"]);
                    continue;
                }
                var calls = phase.Calls.Select(c => c.Call).ToList();
                var http = phase.Calls.Where(c => c.Http is not null).Select(c => c.Http!.Value).ToList();
                var server = phase.Server?.Select(s => s.Milliseconds).ToList();
                rows.Add(
                [
                    result.Name, operation, Count(phase.Calls.Count), Count(phase.Errors.Values.Sum()), Rate(phase.Calls.Count / phase.WallSeconds),
                    Stats.Ms(Stats.Median(calls)), Stats.Ms(Stats.Percentile(calls, 99)),
                    http.Count == 0 ? "-" : Stats.Ms(Stats.Median(http)), http.Count == 0 ? "-" : Stats.Ms(Stats.Percentile(http, 99)),
                    server is { Count: > 0 } ? Stats.Ms(Stats.Median(server)) : "-", server is { Count: > 0 } ? Stats.Ms(Stats.Percentile(server, 99)) : "-",
                    $"{(phase.ServerCpuSeconds is { } cpu ? Stats.Ratio(cpu / phase.WallSeconds) : "-")} / {Stats.Ratio(phase.ClientCpuSeconds / phase.WallSeconds)}",
                ]);
            }
        }
        return Stats.Table(headers, rows);
    }

    public static string Notes(IReadOnlyList<TargetResult> results, Ec2BenchOptions options, string loadBefore, string loadAfter)
    {
        var text = new StringBuilder();
        var cloudPortal = results.FirstOrDefault(r => r.Name == Ec2BenchOptions.CloudPortal);
        var moto = results.FirstOrDefault(r => r.Name == Ec2BenchOptions.Moto);

        text.AppendLine("targets:");
        if (Ok(cloudPortal?.Describe) is { } cpDescribe && Ok(moto?.Describe) is { } motoDescribe)
        {
            var (cp, m) = (cpDescribe.Calls.Count / cpDescribe.WallSeconds, motoDescribe.Calls.Count / motoDescribe.WallSeconds);
            text.AppendLine($"  DescribeInstances req/s, CloudPortal / moto: {Rate(cp)} / {Rate(m)} = {Stats.Ratio(cp / m)} x (target >= {DescribeRatioTarget:0} x): {Met(cp / m >= DescribeRatioTarget)}");
        }
        else
            text.AppendLine($"  DescribeInstances req/s, CloudPortal / moto: not measured (a target {(options.Targets.Count < 2 ? "was not run" : "failed")})");
        if (Ok(cloudPortal?.Describe) is { } describe)
            text.AppendLine(describe.Server is { Count: > 0 } server
                ? $"  CloudPortal DescribeInstances server p99: {Stats.Ms(Stats.Percentile(server.Select(s => s.Milliseconds).ToList(), 99))} ms (target <= {DescribeServerP99Target:0} ms): " +
                  Met(Stats.Percentile(server.Select(s => s.Milliseconds).ToList(), 99) <= DescribeServerP99Target) +
                  $"; client p99 {Stats.Ms(Stats.Percentile(describe.Calls.Select(c => c.Call).ToList(), 99))} ms"
                : "  CloudPortal DescribeInstances server p99: not measured (no request log); client p99 " + Stats.Ms(Stats.Percentile(describe.Calls.Select(c => c.Call).ToList(), 99)) + " ms");
        if (Ok(cloudPortal?.Run) is { } run)
        {
            var client = Stats.Percentile(run.Calls.Select(c => c.Call).ToList(), 99);
            var server = run.Server is { Count: > 0 } lines ? Stats.Percentile(lines.Select(s => s.Milliseconds).ToList(), 99) : (double?)null;
            text.AppendLine($"  CloudPortal RunInstances p99 (target <= {RunP99Target:0} ms): " +
                (server is { } s ? $"server {Stats.Ms(s)} ms: {Met(s <= RunP99Target)}; " : "server not measured; ") +
                $"client {Stats.Ms(client)} ms: {Met(client <= RunP99Target)}");
        }

        text.AppendLine();
        foreach (var result in results)
        {
            text.AppendLine($"{result.Name}: instances' states after RunInstances: {result.States ?? "-"}; instances per DescribeInstances answer: {(result.Describe?.InstancesPerResponse is { Length: > 0 } n ? n : "-")}" +
                (result.SettleSeconds is { } settle ? $"; the server went quiet {settle:0} s after they ran" : "") +
                (result.IdleCores is { } idle ? $", then kept {Stats.Ratio(idle)} cores busy over {options.IdleSeconds} s with no calls" : ""));
            foreach (var (operation, phase) in new[] { ("RunInstances", result.Run), ("DescribeInstances", result.Describe) })
            {
                if (phase is null)
                    continue;
                if (phase.Failure is not null)
                    text.AppendLine($"  {operation} failed: {phase.Failure}");
                if (phase.Errors.Count > 0)
                    text.AppendLine($"  {operation} errors: {string.Join(", ", phase.Errors.Select(e => $"{e.Key} x {e.Value}"))}");
                if (phase.WarmupErrors.Count > 0)
                    text.AppendLine($"  {operation} warm-up errors: {string.Join(", ", phase.WarmupErrors.GroupBy(e => e).Select(g => $"{g.Key} x {g.Count()}"))}");
                if (phase.Server is { } server && server.Count != phase.Attempts)
                    text.AppendLine($"  {operation}: the server's log has {server.Count} measured /ec2 requests for {phase.Attempts} calls: its times are not one per call");
                if (phase.Server is { } answered && answered.Any(s => s.Status >= 400))
                    text.AppendLine($"  {operation}: server statuses {string.Join(", ", answered.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} x {g.Count()}"))}");
                if (phase.Failure is null && phase.Calls.Count > 0 && phase.ServerCpuSeconds is { } serverCpu)
                {
                    // Less the server's idle work over the same time (none is known for the RunInstances window: it is measured after).
                    var idleCpu = operation == "DescribeInstances" && result.IdleCores is { } idleCores ? idleCores * phase.WallSeconds : 0;
                    var (serverMs, clientMs) = (Math.Max(serverCpu - idleCpu, 0) * 1000 / phase.Calls.Count, phase.ClientCpuSeconds * 1000 / phase.Calls.Count);
                    text.AppendLine($"  {operation}: CPU per call: server {Stats.Ms(serverMs)} ms{(idleCpu > 0 ? " (less its idle work)" : "")}, client {Stats.Ms(clientMs)} ms — on {Environment.ProcessorCount} CPUs " +
                        $"and nothing else running, at most {Rate(Environment.ProcessorCount * 1000 / (serverMs + clientMs))} calls/s (the client alone: {Rate(Environment.ProcessorCount * 1000 / clientMs)})");
                }
                if (phase.Failure is null && phase.Calls.Count > 0 && phase.ClientCpuSeconds / phase.WallSeconds >= 0.8 * Math.Min(phase.Processes, Environment.ProcessorCount))
                    text.AppendLine($"  {operation}: the client kept {Stats.Ratio(phase.ClientCpuSeconds / phase.WallSeconds)} cores busy in {phase.Processes} process(es): its req/s is bounded by the client as much as by the server");
            }
        }

        text.AppendLine();
        text.AppendLine("p50/p99: the boto3 call as the client timed it (signing, HTTP, parsing the answer); HTTP: from just before botocore sends the request");
        text.AppendLine("to its body read, before parsing. server: ASP.NET Core's elapsed time of each /ec2 request (request start to response end),");
        text.AppendLine(options.RequestLog
            ? "from its request log (on for this run: two log lines per request). moto has no such log: its server columns stay empty."
            : "not measured in this run (--no-request-log).");
        text.AppendLine("cores busy: CPU seconds over the measured window / its wall time — the server process (CloudPortal: the whole all-in-one;");
        text.AppendLine($"moto: moto_server) and the driver's processes; {Environment.ProcessorCount} CPUs shared by all of them. CloudPortal's CPU in the RunInstances");
        text.AppendLine("window includes the launches it set off (scheduling, the agent's spawns on the simulated driver, their events).");
        text.AppendLine($"load average (1, 5, 15 min) at the start: {loadBefore}; at the end: {loadAfter}.");
        return text.ToString();
    }

    private static PhaseResult? Ok(PhaseResult? phase) => phase is { Failure: null, Calls.Count: > 0 } ? phase : null;

    private static string Met(bool met) => met ? "met" : "NOT met";

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Rate(double value) => value.ToString(value >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
}
