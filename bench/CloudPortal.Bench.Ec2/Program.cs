using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using CloudPortal.Bench.Common;
using CloudPortal.Bench.Ec2;
using CloudPortal.Testing;

// EC2 Query API benchmark (see Ec2BenchOptions.Help, or docs/operations.md "Benchmarks"): one boto3 driver script
// against CloudPortal's /ec2/ and against moto_server in the same run, RunInstances then DescribeInstances.
var (options, error) = Ec2BenchOptions.Parse(args);
if (options is null)
{
    (error is null ? Console.Out : Console.Error).WriteLine(error is null ? Ec2BenchOptions.Help : $"{error}\n\n{Ec2BenchOptions.Help}");
    return error is null ? 0 : 2;
}

using var stop = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var (python, tried) = await Python.FindAsync(options.Python);
if (python is null)
{
    Console.Error.WriteLine($"no python with boto3 and moto ({tried}); give one with --python");
    return 2;
}
Console.WriteLine($"client and moto_server: {python.Executable} ({python.Description})");
var loadBefore = ProcessStats.LoadAverage();
var results = new List<TargetResult>();
try
{
    if (options.Targets.Contains(Ec2BenchOptions.CloudPortal))
        results.Add(await MeasureCloudPortalAsync());
    if (options.Targets.Contains(Ec2BenchOptions.Moto))
        results.Add(await MeasureMotoAsync());
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("stopped before the end: no results");
    return 130;
}

Console.WriteLine();
Console.WriteLine($"CloudPortal EC2 Query API benchmark — {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, client {python.Description}");
Console.WriteLine($"{options.Instances} instances by RunInstances ({options.Warmup} of them warm-up, not measured) from {options.RunConcurrency} threads; " +
    $"DescribeInstances of all of them for {options.DurationSeconds:0.#} s{(options.Requests > 0 ? $" or {options.Requests} calls" : "")} from {options.Concurrency} threads " +
    $"in {Math.Min(options.Processes, options.Concurrency)} processes, each thread its own boto3 client after {options.Warmup} warm-up calls");
Console.WriteLine();
Console.Write(Report.Table(results));
Console.WriteLine();
Console.Write(Report.Notes(results, options, loadBefore, ProcessStats.LoadAverage()));
return 0;

async Task<TargetResult> MeasureCloudPortalAsync()
{
    Console.WriteLine("cloudportal: starting an all-in-one cloud on test:///default");
    var environment = new Dictionary<string, string?>
    {
        // The production default: the fixtures' one-second heartbeat would add a Scheduler write per second to what is measured.
        ["CloudPortal__Agent__HeartbeatInterval"] = "00:00:30",
    };
    if (options.RequestLog)
        environment[RequestLog.Setting.Key] = RequestLog.Setting.Value;
    foreach (var (key, value) in options.CloudEnvironment)
        environment[key] = value;
    await using var bench = await SimulatedBenchCloud.StartAsync(options.Instances, environment);
    try
    {
        var cloud = bench.Cloud;
        string accessKey, secret;
        using (var identity = OidcClient.Api(cloud.IdentityUrl, bench.Tenants.Token("memberA")))
        {
            using var created = await identity.PostAsJsonAsync($"identity/v1/projects/{bench.Tenants.ProjectA}/access-keys", new { }, stop.Token);
            var body = await created.Content.ReadAsStringAsync(stop.Token);
            if (!created.IsSuccessStatusCode)
                throw new HttpRequestException($"create an access key: {(int)created.StatusCode} {body}");
            var key = JsonDocument.Parse(body).RootElement;
            (accessKey, secret) = (key.GetProperty("accessKeyId").GetString()!, key.GetProperty("secretAccessKey").GetString()!);
        }
        var target = new Target(Ec2BenchOptions.CloudPortal, $"{cloud.IdentityUrl}/ec2/", "cp-1", SimulatedBenchCloud.Flavor, accessKey, secret);
        Console.WriteLine($"cloudportal: {target.Endpoint}, region {target.Region}, instance type {target.InstanceType}, access key {accessKey} of memberA in project A");
        var pid = ProcessStats.CloudPortalPid(cloud.Deployment.DataDir);
        var log = options.RequestLog ? new RequestLog(cloud.ComputeProcess, "/ec2") : null;
        return await MeasureAsync(target, () => ProcessStats.CpuSeconds(pid), log);
    }
    finally
    {
        if (options.CloudLog is { } file)
        {
            await File.WriteAllTextAsync(file, bench.Cloud.ComputeProcess.Output, CancellationToken.None);
            Console.WriteLine($"cloudportal: its output is in {file}");
        }
    }
}

async Task<TargetResult> MeasureMotoAsync()
{
    using var moto = await MotoServer.StartAsync(python, FreePort.Next(), stop.Token);
    var target = new Target(Ec2BenchOptions.Moto, moto.Endpoint, "us-east-1", "t2.micro", "testing", "testing");
    Console.WriteLine($"moto: moto_server at {target.Endpoint}, region {target.Region}, instance type {target.InstanceType}");
    try
    {
        return await MeasureAsync(target, () => moto.CpuSeconds, null);
    }
    catch (InvalidOperationException) when (!string.IsNullOrEmpty(moto.Output))
    {
        Console.Error.WriteLine($"moto_server's last lines:\n{moto.Output}");
        throw;
    }
}

// RunInstances, wait until running, DescribeInstances: each phase a run of the driver. A phase that fails is reported
// as such and the target's later phases are skipped.
async Task<TargetResult> MeasureAsync(Target target, Func<double> serverCpu, RequestLog? log)
{
    var result = new TargetResult(target.Name);
    string[] run = ["--instances", Invariant(options.Instances), "--warmup", Invariant(options.Warmup), "--concurrency", Invariant(options.RunConcurrency)];
    result.Run = await PhaseAsync(target, "run", run, serverCpu, log, TimeSpan.FromMinutes(15));
    if (result.Run.Failure is not null)
        return result;
    try
    {
        var wait = await Driver.RunPhaseAsync(python, target, "wait", ["--instances", Invariant(options.Instances), "--timeout", "300"], null, TimeSpan.FromMinutes(6), stop.Token);
        result.States = wait.GetProperty("states").ToString();
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
    {
        result.States = $"unknown ({ex.Message})";
    }
    // The launches go on in the server after the instances show as running (CloudPortal: events, outbox relays, usage
    // reports: a core for some 15 s after 100 launches): DescribeInstances is measured once that is over. Then the
    // server's own background work with the instances in place and no calls, so the CPU per call can be told apart from it.
    result.SettleSeconds = await SettleAsync(serverCpu);
    var idleStart = serverCpu();
    await Task.Delay(TimeSpan.FromSeconds(options.IdleSeconds), stop.Token);
    result.IdleCores = (serverCpu() - idleStart) / options.IdleSeconds;
    string[] describe =
    [
        "--duration", options.DurationSeconds.ToString(CultureInfo.InvariantCulture), "--requests", Invariant(options.Requests),
        "--concurrency", Invariant(options.Concurrency), "--processes", Invariant(options.Processes), "--warmup", Invariant(options.Warmup),
    ];
    result.Describe = await PhaseAsync(target, "describe", describe, serverCpu, log, TimeSpan.FromSeconds(options.DurationSeconds) + TimeSpan.FromMinutes(10));
    return result;
}

// Seconds until the server used less than a tenth of a core over each of three seconds in a row (at most 120 s).
async Task<double> SettleAsync(Func<double> serverCpu)
{
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var quiet = 0;
    for (var last = serverCpu(); quiet < 3 && clock.Elapsed < TimeSpan.FromSeconds(120);)
    {
        await Task.Delay(TimeSpan.FromSeconds(1), stop.Token);
        var now = serverCpu();
        quiet = now - last < 0.1 ? quiet + 1 : 0;
        last = now;
    }
    return clock.Elapsed.TotalSeconds;
}

async Task<PhaseResult> PhaseAsync(Target target, string phase, string[] arguments, Func<double> serverCpu, RequestLog? log, TimeSpan timeout)
{
    var mark = log?.Mark() ?? 0;
    double? cpuAtStart = null, cpuAtEnd = null;
    try
    {
        var json = await Driver.RunPhaseAsync(python, target, phase, arguments, marker =>
        {
            if (marker == Driver.Measuring)
                cpuAtStart = serverCpu();
            else
                cpuAtEnd = serverCpu();
        }, timeout, stop.Token);
        var result = PhaseResult.From(json);
        if (cpuAtStart is { } started && cpuAtEnd is { } ended)
            result.ServerCpuSeconds = ended - started;
        if (log is not null)
            result.Server = await log.TakeAsync(mark, json.GetProperty("setupRequests").GetInt32(), result.Calls.Count + result.Errors.Values.Sum());
        return result;
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or JsonException)
    {
        Console.Error.WriteLine($"   [{target.Name}] {phase} failed: {ex.Message}");
        return new PhaseResult { Failure = ex.Message };
    }
}

static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    Console.Error.WriteLine($"\n{signal.Signal}: stopping; removing what the run made");
    stop.Cancel();
}
