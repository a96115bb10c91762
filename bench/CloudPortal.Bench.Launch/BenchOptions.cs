using System.Globalization;

namespace CloudPortal.Bench.Launch;

/// <summary>The command line: every option has a default, so a bare run is the published benchmark.</summary>
internal sealed record BenchOptions(
    int Runs,
    IReadOnlyList<int> Concurrency,
    string Libvirt,
    TimeSpan Poll,
    bool SkipAgent,
    IReadOnlyDictionary<string, string?> CloudEnvironment,
    string? CloudLog)
{
    public const string Help = """
        CloudPortal launch benchmark: real QEMU/KVM guests of the TESTING.md boot-sector image (qcow2, 1 vCPU, 64 MiB,
        1 GiB root disk), warm image cache.
          1. agent: SpawnInstance -> running domain through the compute agent, against virsh define + start (one at a time)
          2. API: an all-in-one cloud (the built cloudportal binary, a temporary data directory) — POST /compute/v1/instances
             -> ACTIVE and -> the guest's console line, against virsh define + start of the same disk and its serial log,
             at each concurrency level

        usage: dotnet run -c Release --project bench/CloudPortal.Bench.Launch -- [options]

          --runs N              launches per path and concurrency level (default 20, at least 10)
          --concurrency 1,5     concurrency levels of the API and raw paths: launches started together (default 1,5)
          --libvirt URI         libvirt connection of the agents and of virsh (default qemu:///system)
          --poll-ms MS          interval of the instance and console-log polls of the API path (default 25)
          --skip-agent          only the API comparison, not the agent-vs-virsh table
          --cloud-env KEY=VALUE extra environment of the cloudportal process (repeatable), e.g.
                                Logging__LogLevel__MassTransit=Debug or CloudPortal__LogFormat=json
          --cloud-log FILE      write the cloudportal process's output to FILE when the run ends
          -h, --help            this text

        Needs root (or libvirt's qemu:///system rights), /dev/kvm, qemu-img and virsh, and a built host
        (this project builds it). Everything it creates in libvirt (domains cp-*, its storage pools) and on disk
        (temporary directories) is removed at the end, also when the run fails.
        """;

    /// <summary>The options, or null with the reason when the command line is not valid (or asks for help: reason null).</summary>
    public static (BenchOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        var runs = 20;
        IReadOnlyList<int> concurrency = [1, 5];
        var libvirt = "qemu:///system";
        var pollMs = 25;
        var skipAgent = false;
        var environment = new Dictionary<string, string?>();
        string? cloudLog = null;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
                return (null, null);
            if (name == "--skip-agent")
            {
                skipAgent = true;
                continue;
            }
            if (i + 1 >= args.Count)
                return (null, $"{name} needs a value");
            var value = args[++i];
            switch (name)
            {
                case "--runs" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out runs) && runs >= 10:
                    break;
                case "--runs":
                    return (null, "--runs is a whole number, at least 10 (a p95 of fewer launches is one launch)");
                case "--concurrency":
                    var levels = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                        .Select(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var level) ? level : 0).ToList();
                    if (levels.Count == 0 || levels.Any(l => l is < 1 or > 10))
                        return (null, "--concurrency is a comma-separated list of levels from 1 to 10 (a project may run 10 instances)");
                    concurrency = levels.Distinct().ToList();
                    break;
                case "--libvirt":
                    libvirt = value;
                    break;
                case "--poll-ms" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out pollMs) && pollMs is >= 1 and <= 1000:
                    break;
                case "--poll-ms":
                    return (null, "--poll-ms is 1-1000");
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
        return (new BenchOptions(runs, concurrency, libvirt, TimeSpan.FromMilliseconds(pollMs), skipAgent, environment, cloudLog), null);
    }
}
