using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CloudPortal.Bench.Common;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Launch;

/// <summary>
/// For the same image and a warm image cache, the time from SpawnInstance to a running domain through the agent (in this
/// process, on the in-memory bus), against the raw libvirt path an operator would take: virsh define + virsh start of an
/// equivalent domain (same XML, an overlay made beforehand), and the same with the overlay's qemu-img create inside the
/// timing. The three paths alternate, one guest at a time, each destroyed after.
/// </summary>
internal static class AgentComparison
{
    public const string Agent = "agent: SpawnInstance -> InstanceSpawned";
    public const string Virsh = "virsh define + virsh start";
    public const string VirshWithDisk = "qemu-img overlay + virsh define + start";

    /// <summary>Runs the comparison; <paramref name="created"/> learns each host and pool name before anything is made under it.</summary>
    public static async Task<string> RunAsync(BenchOptions options, LibvirtConnection libvirt, string domainType, string root, LibvirtLeftovers created, CancellationToken cancellationToken)
    {
        var runs = options.Runs;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var host = $"bench-{suffix}";
        var rawHost = $"bench-raw-{suffix}";
        var imagesPool = $"cp-bench-images-{suffix}";
        var instancesPool = $"cp-bench-instances-{suffix}";
        created.Hosts.Add(host);
        created.Hosts.Add(rawHost);
        created.Pools.Add(instancesPool);
        created.Pools.Add(imagesPool);
        var results = new Dictionary<string, List<double>> { [Agent] = [], [Virsh] = [], [VirshWithDisk] = [] };

        var image = GuestImage.Qcow2();
        var imageId = Guid.NewGuid();
        await using var server = await ImageServer.StartAsync(imageId, image);
        var source = new ImageSource(imageId, server.Url, Convert.ToHexStringLower(SHA256.HashData(image)), image.Length, DiskFormats.Qcow2);
        var flavor = new FlavorSpec("bench.tiny", 1, 64, 1);
        await using var agent = await BenchAgent.StartAsync(options.Libvirt, host, root, imagesPool, instancesPool, FreePort());

        // Warm-up: fills the image cache (and every JIT path); not measured.
        var warm = Guid.NewGuid();
        await agent.SpawnAsync(new SpawnInstance(warm, Guid.NewGuid(), host, flavor, source));
        await agent.DeleteAsync(warm);
        string basePath;
        using (var pool = libvirt.LookupStoragePoolByName(imagesPool)!)
        using (var volume = pool.ListAllVolumes().Single())
            basePath = volume.GetPath();
        Console.WriteLine($"1. agent vs virsh: image cached at {basePath}; {runs} runs per path");

        for (var run = 1; run <= runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = Guid.NewGuid();
            var clock = Stopwatch.StartNew();
            await agent.SpawnAsync(new SpawnInstance(id, Guid.NewGuid(), host, flavor, source));
            results[Agent].Add(clock.Elapsed.TotalMilliseconds);
            await agent.DeleteAsync(id);

            results[Virsh].Add(RawLaunch(withDisk: false));
            results[VirshWithDisk].Add(RawLaunch(withDisk: true));
            Console.Write($"\rrun {run}/{runs}");
        }
        Console.WriteLine();

        var ratio = Stats.Median(results[Agent]) / Stats.Median(results[Virsh]);
        return Table(results) + $"target: agent median <= 1.2 x virsh define + start median: {Stats.Ratio(ratio)} x, {(ratio <= 1.2 ? "met" : "NOT met")}" + Environment.NewLine;

        double RawLaunch(bool withDisk)
        {
            var id = Guid.NewGuid();
            var name = DomainXml.DomainName(id);
            var overlay = Path.Combine(root, $"raw-{id}.qcow2");
            var xmlFile = Path.Combine(root, $"raw-{id}.xml");
            var metadata = new InstanceMetadata(id, Guid.NewGuid(), rawHost, flavor, imageId, source.Sha256, DateTimeOffset.UtcNow);
            File.WriteAllText(xmlFile, DomainXml.Build(new DomainDefinition(domainType, metadata, overlay, Path.Combine(root, $"raw-{id}.log"), "127.0.0.1", null)));
            string[] createOverlay = ["create", "-q", "-f", "qcow2", "-b", basePath, "-F", "qcow2", overlay, "1G"];
            if (!withDisk)
                Tools.Run("qemu-img", createOverlay);
            var clock = Stopwatch.StartNew();
            if (withDisk)
                Tools.Run("qemu-img", createOverlay);
            Tools.Run("virsh", "-q", "-c", options.Libvirt, "define", xmlFile);
            Tools.Run("virsh", "-q", "-c", options.Libvirt, "start", name);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            Tools.Run("virsh", "-q", "-c", options.Libvirt, "destroy", name);
            Tools.Run("virsh", "-q", "-c", options.Libvirt, "undefine", name, "--managed-save");
            File.Delete(overlay);
            File.Delete(xmlFile);
            return elapsed;
        }
    }

    private static string Table(Dictionary<string, List<double>> results)
    {
        var baseline = results[Virsh];
        string[] headers = ["path", "runs", "median ms", "p95 ms", "min ms", "max ms", "median ratio", "p95 ratio"];
        var rows = results.Select(r => new[]
        {
            r.Key, r.Value.Count.ToString(CultureInfo.InvariantCulture),
            Stats.Ms(Stats.Median(r.Value)), Stats.Ms(Stats.Percentile(r.Value, 95)), Stats.Ms(r.Value.Min()), Stats.Ms(r.Value.Max()),
            Stats.Ratio(Stats.Median(r.Value) / Stats.Median(baseline)),
            Stats.Ratio(Stats.Percentile(r.Value, 95) / Stats.Percentile(baseline, 95)),
        }).ToList();
        return Stats.Table(headers, rows);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
