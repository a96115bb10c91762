using System.Globalization;

namespace CloudPortal.Bench.Ec2;

/// <summary>The command line: every option has a default, so a bare run is the published benchmark.</summary>
internal sealed record Ec2BenchOptions(
    int Instances,
    int Warmup,
    int RunConcurrency,
    double DurationSeconds,
    int Requests,
    int Concurrency,
    int Processes,
    int IdleSeconds,
    string? Python,
    IReadOnlyList<string> Targets,
    bool RequestLog,
    IReadOnlyDictionary<string, string?> CloudEnvironment,
    string? CloudLog)
{
    public const string CloudPortal = "cloudportal";
    public const string Moto = "moto";

    public const string Help = """
        CloudPortal EC2 Query API benchmark: the same boto3 client script (ec2_driver.py, beside this program) against
        CloudPortal's /ec2/ (an all-in-one cloud, its agent on libvirt's simulated driver test:///default) and against
        moto_server (python3 -m moto.server) on another loopback port, one after the other in the same run:
          1. RunInstances (MinCount=MaxCount=1) until the project has --instances instances, each call measured
             (the first --warmup not), from --run-concurrency threads; then wait until they are all running and
             the server has gone quiet (less than 0.1 core over 3 s: the launches' aftermath is over)
          2. DescribeInstances of all of them from --concurrency threads (each its own boto3 client) spread over
             --processes processes, for --duration seconds (or --requests calls)
        It prints per target and operation: requests, req/s, client-side p50/p99 (the boto3 call: signing, HTTP,
        parsing; and the HTTP part alone), CloudPortal's server-side p50/p99 (its request log), CPU used; then the
        ratios against the targets (DescribeInstances req/s >= 20 x moto's with server p99 <= 50 ms, RunInstances
        p99 <= 100 ms). It asserts nothing.

        usage: dotnet run -c Release --project bench/CloudPortal.Bench.Ec2 -- [options]

          --instances N         instances in the project, all made by RunInstances (default 100)
          --warmup N            RunInstances calls not measured (of the N), and DescribeInstances calls per client
                                before the measured ones (default 2)
          --run-concurrency N   threads making the RunInstances calls (default 4)
          --duration S          seconds of DescribeInstances per target (default 30)
          --requests N          at most N DescribeInstances calls per target (default 0: the duration alone)
          --concurrency N       DescribeInstances threads, each with its own boto3 client (default 4)
          --processes N         client processes the threads are spread over: CPython runs one thread at a time per
                                process, and parsing a 100-instance answer takes botocore tens of ms (default 2)
          --idle S              seconds the server is watched with the instances in place and no calls, once it
                                has gone quiet after the launches and before DescribeInstances: its background
                                CPU, taken off its CPU per DescribeInstances call (default 5)
          --python PATH         the interpreter for the driver and moto_server (default: the first of python3,
                                /usr/bin/python3 that imports boto3 and moto)
          --targets LIST        cloudportal,moto (default both; moto alone needs no cloud)
          --no-request-log      leave ASP.NET Core's per-request log off (no server-side latencies; it costs the
                                server two log lines per request)
          --cloud-env KEY=VALUE extra environment of the cloudportal process (repeatable)
          --cloud-log FILE      write the cloudportal process's output to FILE when the run ends
          -h, --help            this text

        Needs a built host (this project builds it), qemu-img, and a python with boto3 and moto. Everything it starts
        (the cloud, moto_server, the driver's processes) is stopped and its temporary directories removed at the end.
        """;

    /// <summary>The options, or null with the reason when the command line is not valid (or asks for help: reason null).</summary>
    public static (Ec2BenchOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var instances = 100;
        var warmup = 2;
        var runConcurrency = 4;
        var duration = 30.0;
        var requests = 0;
        var concurrency = 4;
        var processes = 2;
        var idle = 5;
        string? python = null;
        IReadOnlyList<string> targets = [CloudPortal, Moto];
        var requestLog = true;
        var environment = new Dictionary<string, string?>();
        string? cloudLog = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
                return (null, null);
            if (name == "--no-request-log")
            {
                requestLog = false;
                continue;
            }
            if (i + 1 >= args.Count)
                return (null, $"{name} needs a value");
            var value = args[++i];
            switch (name)
            {
                case "--instances" when Whole(value, 1, 1000, out instances):
                case "--warmup" when Whole(value, 0, 100, out warmup):
                case "--run-concurrency" when Whole(value, 1, 64, out runConcurrency):
                case "--requests" when Whole(value, 0, 10_000_000, out requests):
                case "--concurrency" when Whole(value, 1, 256, out concurrency):
                case "--processes" when Whole(value, 1, 64, out processes):
                case "--idle" when Whole(value, 1, 600, out idle):
                    break;
                case "--instances":
                    return (null, "--instances is 1-1000");
                case "--warmup":
                    return (null, "--warmup is 0-100");
                case "--run-concurrency" or "--processes":
                    return (null, $"{name} is 1-64");
                case "--idle":
                    return (null, "--idle is 1-600 seconds");
                case "--requests":
                    return (null, "--requests is a whole number (0: no limit)");
                case "--concurrency":
                    return (null, "--concurrency is 1-256");
                case "--duration" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out duration) && duration is >= 1 and <= 3600:
                    break;
                case "--duration":
                    return (null, "--duration is 1-3600 seconds");
                case "--python":
                    python = value;
                    break;
                case "--targets":
                    var list = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToList();
                    if (list.Count == 0 || list.Any(t => t is not (CloudPortal or Moto)))
                        return (null, "--targets is a comma-separated list of cloudportal and moto");
                    targets = list;
                    break;
                case "--cloud-env" when value.IndexOf('=', StringComparison.Ordinal) is var at and > 0:
                    environment[value[..at]] = value[(at + 1)..];
                    break;
                case "--cloud-env":
                    return (null, "--cloud-env is KEY=VALUE");
                case "--cloud-log":
                    cloudLog = Path.GetFullPath(value);
                    break;
                default:
                    return (null, $"unknown option {name}");
            }
        }
        if (warmup >= instances)
            return (null, "--warmup must leave some of --instances to measure");
        return (new Ec2BenchOptions(instances, warmup, runConcurrency, duration, requests, concurrency, processes, idle, python, targets, requestLog, environment, cloudLog), null);
    }

    private static bool Whole(string value, int min, int max, out int result) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result) && result >= min && result <= max;
}
