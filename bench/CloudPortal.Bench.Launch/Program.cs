using System.Diagnostics;
using System.Globalization;
using CloudPortal.Bench.Launch;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;

// Launch benchmark: for the same image (the boot-sector guest, qcow2, 1 GiB root disk, 1 vCPU, 64 MiB) and a warm image
// cache, the time from SpawnInstance to a running domain through the agent, against the raw libvirt path an operator
// would take: virsh define + virsh start of an equivalent domain (same XML, an overlay made beforehand), and the same with
// the overlay's qemu-img create inside the timing. The three paths alternate, one guest at a time, each destroyed after.
// Usage: cloudportal-bench-launch [--runs 20] [--libvirt qemu:///system]
var runs = int.Parse(Arg("--runs") ?? "20", CultureInfo.InvariantCulture);
var uri = Arg("--libvirt") ?? "qemu:///system";
if (runs < 10)
    throw new ArgumentException("--runs must be at least 10");

var root = Directory.CreateTempSubdirectory("cp-bench-launch-").FullName;
var suffix = Guid.NewGuid().ToString("N")[..8];
var host = $"bench-{suffix}";
var imagesPool = $"cp-bench-images-{suffix}";
var instancesPool = $"cp-bench-instances-{suffix}";
using var libvirt = LibvirtConnection.Open(uri);
var domainType = libvirt.HypervisorType == "TEST" ? "test" : HypervisorSession.DomainTypeFor(libvirt);
var results = new Dictionary<string, List<double>> { [Paths.Agent] = [], [Paths.Virsh] = [], [Paths.VirshWithDisk] = [] };
try
{
    var image = GuestImage.Qcow2(root);
    var imageId = Guid.NewGuid();
    await using var server = await ImageServer.StartAsync(imageId, image);
    var source = new ImageSource(imageId, server.Url, GuestImage.Sha256(image), image.Length, DiskFormats.Qcow2);
    var flavor = new FlavorSpec("bench.tiny", 1, 64, 1);
    await using var agent = await BenchAgent.StartAsync(uri, host, root, imagesPool, instancesPool, FreePort());

    // Warm-up: fills the image cache (and every JIT path); not measured.
    var warm = Guid.NewGuid();
    await agent.SpawnAsync(new SpawnInstance(warm, Guid.NewGuid(), host, flavor, source));
    await agent.DeleteAsync(warm);
    string basePath;
    using (var pool = libvirt.LookupStoragePoolByName(imagesPool)!)
    using (var volume = pool.ListAllVolumes().Single())
        basePath = volume.GetPath();
    Console.WriteLine($"libvirt {uri} ({libvirt.HypervisorType} {libvirt.HypervisorVersion}, domain type {domainType}); image cached at {basePath}; {runs} runs per path");

    for (var run = 1; run <= runs; run++)
    {
        var id = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        await agent.SpawnAsync(new SpawnInstance(id, Guid.NewGuid(), host, flavor, source));
        results[Paths.Agent].Add(clock.Elapsed.TotalMilliseconds);
        await agent.DeleteAsync(id);

        results[Paths.Virsh].Add(RawLaunch(withDisk: false));
        results[Paths.VirshWithDisk].Add(RawLaunch(withDisk: true));
        Console.Write($"\rrun {run}/{runs}");
    }
    Console.WriteLine();

    double RawLaunch(bool withDisk)
    {
        var id = Guid.NewGuid();
        var name = DomainXml.DomainName(id);
        var overlay = Path.Combine(root, $"raw-{id}.qcow2");
        var xmlFile = Path.Combine(root, $"raw-{id}.xml");
        var metadata = new InstanceMetadata(id, Guid.NewGuid(), "bench-raw", flavor, imageId, source.Sha256, DateTimeOffset.UtcNow);
        File.WriteAllText(xmlFile, DomainXml.Build(new DomainDefinition(domainType, metadata, overlay, Path.Combine(root, $"raw-{id}.log"), "127.0.0.1", null)));
        string[] createOverlay = ["create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", overlay, "1G"];
        if (!withDisk)
            Tools.Run("qemu-img", createOverlay);
        var clock = Stopwatch.StartNew();
        if (withDisk)
            Tools.Run("qemu-img", createOverlay);
        Tools.Run("virsh", "-q", "-c", uri, "define", xmlFile);
        Tools.Run("virsh", "-q", "-c", uri, "start", name);
        var elapsed = clock.Elapsed.TotalMilliseconds;
        Tools.Run("virsh", "-q", "-c", uri, "destroy", name);
        Tools.Run("virsh", "-q", "-c", uri, "undefine", name, "--managed-save");
        File.Delete(overlay);
        File.Delete(xmlFile);
        return elapsed;
    }
}
finally
{
    RemovePool(libvirt, instancesPool);
    RemovePool(libvirt, imagesPool);
    Directory.Delete(root, recursive: true);
}

Console.WriteLine();
Console.WriteLine($"CloudPortal launch benchmark — {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, warm image cache, time to a running domain");
Console.WriteLine(Table(results));
var ratio = Percentile(results[Paths.Agent], 50) / Percentile(results[Paths.Virsh], 50);
Console.WriteLine($"target: agent median <= 1.2 x virsh define + start median: {ratio:0.00} x, {(ratio <= 1.2 ? "met" : "NOT met")}");
return 0;

static string Table(Dictionary<string, List<double>> results)
{
    var baseline = results[Paths.Virsh];
    string[] headers = ["path", "runs", "median ms", "p95 ms", "min ms", "max ms", "median ratio", "p95 ratio"];
    var rows = results.Select(r => new[]
    {
        r.Key, r.Value.Count.ToString(CultureInfo.InvariantCulture),
        Ms(Percentile(r.Value, 50)), Ms(Percentile(r.Value, 95)), Ms(r.Value.Min()), Ms(r.Value.Max()),
        (Percentile(r.Value, 50) / Percentile(baseline, 50)).ToString("0.00", CultureInfo.InvariantCulture),
        (Percentile(r.Value, 95) / Percentile(baseline, 95)).ToString("0.00", CultureInfo.InvariantCulture),
    }).ToList();
    var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
    var text = new System.Text.StringBuilder();
    text.AppendLine("| " + string.Join(" | ", headers.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))) + " |");
    text.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
    foreach (var row in rows)
        text.AppendLine("| " + string.Join(" | ", row.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |");
    return text.ToString();
}

static string Ms(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

// Nearest rank: with 20 runs p95 is the 19th value, with 10 the largest.
static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

static void RemovePool(LibvirtConnection libvirt, string name)
{
    using var pool = libvirt.LookupStoragePoolByName(name);
    if (pool is null)
        return;
    if (pool.IsActive())
    {
        pool.Refresh();
        foreach (var volume in pool.ListAllVolumes())
        {
            using (volume)
                volume.Delete();
        }
        pool.Destroy();
    }
    pool.Undefine();
}

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    listener.Start();
    return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
}

string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

internal static class Paths
{
    public const string Agent = "agent: SpawnInstance -> InstanceSpawned";
    public const string Virsh = "virsh define + virsh start";
    public const string VirshWithDisk = "qemu-img overlay + virsh define + start";
}
