using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using CloudPortal.Bench.Common;
using CloudPortal.Bench.Upload;
using CloudPortal.Testing;

// Image upload benchmark (see UploadBenchOptions.Help, or docs/operations.md "Benchmarks"): one random raw file uploaded
// to CloudPortal and to a standalone Glance in alternating rounds with the same client code, beside openssl and cp of
// the same file, plus the servers' peak memory per upload.
var (options, error) = UploadBenchOptions.Parse(args);
if (options is null)
{
    (error is null ? Console.Out : Console.Error).WriteLine(error is null ? UploadBenchOptions.Help : $"{error}\n\n{UploadBenchOptions.Help}");
    return error is null ? 0 : 2;
}
if (options.Cold && !Tools.CanDropCaches())
{
    Console.Error.WriteLine("--cold needs to write /proc/sys/vm/drop_caches (root)");
    return 2;
}

using var stop = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

const string CloudPortalName = "cloudportal";
const string GlanceName = "glance";
var glanceVersion = options.Glance ? await GlanceServer.InstalledVersionAsync(options.GlanceApi) : null;
if (options.Glance && glanceVersion is null)
    Console.WriteLine($"glance-api is not installed ({options.GlanceApi}; apt-get install glance-api): CloudPortal, openssl and cp only");

// The servers' data directories are made under the temporary directory, so the test file and the copies are too:
// every step reads and writes the same filesystem.
var work = Path.Combine(Path.GetTempPath(), $"cloudportal-bench-upload-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
var large = Path.Combine(work, "large.raw");
var small = Path.Combine(work, "small.raw");
var copy = Path.Combine(work, "copy.raw");
var loadBefore = ProcessStats.LoadAverage();
try
{
    var largeBytes = (long)Math.Round(options.Gib * (1L << 30));
    var smallBytes = (long)options.SmallMib << 20;
    Console.WriteLine($"test files: {Mib(largeBytes):0} MiB and {Mib(smallBytes):0} MiB of random data in {work}");
    await Tools.MakeRandomFileAsync(large, largeBytes);
    await Tools.MakeRandomFileAsync(small, smallBytes);

    Console.WriteLine("cloudportal: starting an all-in-one cloud");
    // A full run at the defaults outlasts the member's default 15-minute access token.
    await using var cloud = await TestCloud.StartAsync("all-in-one", new Dictionary<string, string?> { ["CloudPortal__Identity__AccessTokenLifetime"] = "04:00:00" });
    var tenants = await Tenants.CreateAsync(cloud);
    var cloudPid = ProcessStats.CloudPortalPid(cloud.Deployment.DataDir);
    using var cloudPortal = new ImageApi(CloudPortalName,
        ImageApi.NewClient(cloud.ImagesUrl, new Dictionary<string, string>
        {
            ["Authorization"] = $"Bearer {tenants.Token("memberA")}",
            ["CloudPortal-Project"] = tenants.ProjectA.ToString(),
        }),
        "images/v2/images",
        name => new { name, diskFormat = "raw", containerFormat = "bare" },
        () => [cloudPid]);
    Console.WriteLine($"cloudportal: {cloud.ImagesUrl}, pid {cloudPid}, data directory {cloud.Deployment.DataDir}");

    using var glance = glanceVersion is null ? null : await GlanceServer.StartAsync(options.GlanceApi, stop.Token);
    using var glanceApi = glance is null ? null : new ImageApi(GlanceName,
        ImageApi.NewClient(glance.Endpoint, new Dictionary<string, string>()),
        "v2/images",
        name => new Dictionary<string, string> { ["name"] = name, ["disk_format"] = "raw", ["container_format"] = "bare" },
        () => glance.Pids);
    if (glance is not null)
        Console.WriteLine($"glance: glance-api {glanceVersion} at {glance.Endpoint}, pid {string.Join(',', glance.Pids)}, file store {glance.ImagesDirectory}");
    var servers = glanceApi is null ? [cloudPortal] : new[] { cloudPortal, glanceApi };
    await SameFilesystemAsync([work, cloud.Deployment.DataDir, .. glance is null ? Array.Empty<string>() : [glance.ImagesDirectory]]);

    // One untimed upload of the small file to each: first requests (JIT, Python imports, SQLite pages) are not what is measured.
    var hashes = new Dictionary<string, string>();
    foreach (var server in servers)
        hashes[server.Name] = HashesOf((await ImageUpload.RunAsync(server, small, options.Cold, stop.Token)).Image);

    var uploads = servers.ToDictionary(s => s.Name, _ => new List<UploadResult>());
    var tools = new Dictionary<string, List<TimeSpan>> { ["openssl dgst -sha512"] = [], ["openssl dgst -sha256"] = [], ["cp"] = [], ["cp + sync"] = [] };
    for (var round = 1; round <= options.Rounds; round++)
    {
        Console.WriteLine($"round {round}/{options.Rounds}");
        foreach (var server in servers)
            uploads[server.Name].Add(await ImageUpload.RunAsync(server, large, options.Cold, stop.Token));
        tools["openssl dgst -sha512"].Add(await TimedAsync(() => Tools.RunAsync("openssl", "dgst", "-sha512", large)));
        tools["openssl dgst -sha256"].Add(await TimedAsync(() => Tools.RunAsync("openssl", "dgst", "-sha256", large)));
        tools["cp"].Add(await TimedAsync(() => Tools.RunAsync("cp", large, copy)));
        File.Delete(copy);
        // `sync FILE` is an fsync of that file: what CloudPortal does before it calls the image active (Glance does not).
        tools["cp + sync"].Add(await TimedAsync(async () => { await Tools.RunAsync("cp", large, copy); await Tools.RunAsync("sync", copy); }));
        File.Delete(copy);
    }

    // Memory flat across uploads: the same large file to CloudPortal again and again, each upload's own peak.
    var inARow = new List<UploadResult>();
    if (options.InARow > 0)
        Console.WriteLine($"cloudportal: {options.InARow} uploads in a row");
    for (var i = 0; i < options.InARow; i++)
        inARow.Add(await ImageUpload.RunAsync(cloudPortal, large, options.Cold, stop.Token));
    // Memory flat in the file size: the small file's peak against the large one's.
    var smallPeaks = new Dictionary<string, long>();
    foreach (var server in servers)
        smallPeaks[server.Name] = (await ImageUpload.RunAsync(server, small, options.Cold, stop.Token)).PeakRssKib;

    var rows = new List<string[]>();
    foreach (var server in servers)
    {
        var results = uploads[server.Name];
        rows.Add([$"{server.Name} upload", .. Rates(results.Select(r => r.Put)), Seconds(Stats.Median([.. results.Select(r => r.ToActive.TotalSeconds)])),
            $"{KibToMib(Stats.Median([.. results.Select(r => (double)r.PeakRssKib)]))} ({KibToMib(results.Max(r => r.PeakRssKib))})",
            $"+{KibToMib(Stats.Median([.. results.Select(r => (double)(r.PeakRssKib - r.RssBeforeKib))]))}",
            $"{Stats.Ratio(Stats.Median([.. results.Select(r => r.Cores.Server)]))} / {Stats.Ratio(Stats.Median([.. results.Select(r => r.Cores.Client)]))}"]);
    }
    foreach (var (tool, times) in tools)
        rows.Add([tool, .. Rates(times), "-", "-", "-", "-"]);

    Console.WriteLine();
    Console.WriteLine($"CloudPortal image upload benchmark — {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, " +
        $"{Mib(largeBytes):0} MiB raw, {options.Rounds} alternating rounds, source {(options.Cold ? "on disk (page cache dropped before each step)" : "in the page cache")}");
    Console.WriteLine($"cloudportal hashes: {hashes[CloudPortalName]}" + (glanceApi is null ? "" : $"; glance {glanceVersion} hashes: {hashes[GlanceName]}"));
    Console.WriteLine();
    Console.Write(Stats.Table(["step", "MiB/s min", "MiB/s median", "MiB/s max", "to active median (s)", "server peak RSS median (max), MiB", "peak − RSS before, median MiB", "cores busy server / client"], rows));
    Console.WriteLine();

    var cpUpload = MedianRate(uploads[CloudPortalName].Select(r => r.Put));
    var sha512On = hashes[CloudPortalName].Contains("sha512", StringComparison.Ordinal);
    var targets = new List<string[]>();
    if (glanceApi is not null)
    {
        var glanceUpload = MedianRate(uploads[GlanceName].Select(r => r.Put));
        targets.Add(["upload MiB/s: cloudportal / glance", Stats.Ratio(cpUpload / glanceUpload), "≥ 2.00", Met(cpUpload / glanceUpload >= 2)]);
    }
    var sha512 = MedianRate(tools["openssl dgst -sha512"]);
    targets.Add(["upload MiB/s: cloudportal / openssl sha512", Stats.Ratio(cpUpload / sha512), sha512On ? "≥ 0.70" : "- (SHA-512 off)", sha512On ? Met(cpUpload / sha512 >= 0.7) : "-"]);
    targets.Add(["upload MiB/s: cloudportal / (cp + sync)", Stats.Ratio(cpUpload / MedianRate(tools["cp + sync"])), "-", "-"]);
    if (glanceApi is not null)
    {
        var ratio = Stats.Median([.. uploads[CloudPortalName].Select(r => r.ToActive.TotalSeconds)]) / Stats.Median([.. uploads[GlanceName].Select(r => r.ToActive.TotalSeconds)]);
        targets.Add(["time to active: cloudportal / glance", Stats.Ratio(ratio), options.Gib == 2 ? "≤ 1.00" : "≤ 1.00 (stated for 2 GiB)", Met(ratio <= 1)]);
    }
    if (inARow.Count > 0)
    {
        var (first, last) = (inARow[0].PeakRssKib, inARow[^1].PeakRssKib);
        targets.Add([$"cloudportal peak RSS: upload {inARow.Count} / upload 1 in a row ({KibToMib(last)} / {KibToMib(first)} MiB)",
            Stats.Ratio((double)last / first), "≤ 1.10", Met(last <= first * 1.1)]);
    }
    foreach (var server in servers)
    {
        var largePeak = Stats.Median([.. uploads[server.Name].Select(r => (double)r.PeakRssKib)]);
        var smallPeak = smallPeaks[server.Name];
        targets.Add([$"{server.Name} peak RSS: {Mib(largeBytes):0} MiB / {Mib(smallBytes):0} MiB file ({KibToMib(largePeak)} / {KibToMib(smallPeak)} MiB)",
            Stats.Ratio(largePeak / smallPeak), server == cloudPortal ? "≤ 1.10" : "-", server == cloudPortal ? Met(largePeak <= smallPeak * 1.1) : "-"]);
    }
    Console.Write(Stats.Table(["ratio (medians)", "value", "target", "met"], targets));
    Console.WriteLine();
    Console.WriteLine("upload = the PUT of the file (one HttpClient, a FileStream with Content-Length, the same code for both servers); " +
        "to active = from the start of the PUT until GET of the image shows active.");
    Console.WriteLine("Before every step: sync, then " + (options.Cold ? "the page cache dropped." : "the file read once into the page cache."));
    Console.WriteLine("CloudPortal fsyncs the image before it is active; Glance's file store does not (compare cp + sync and cp).");
    Console.WriteLine("Peak RSS = VmHWM after the upload, reset by clear_refs before it" +
        (glance is null ? "." : "; Glance runs with workers = 0 (one process serves), the largest of its processes is taken."));
    Console.WriteLine($"cores busy = CPU seconds from the start of the PUT until active / that time, medians ({Environment.ProcessorCount} cores here); the client is this process.");
    Console.WriteLine($"load average at the start {loadBefore}, at the end {ProcessStats.LoadAverage()} ({Environment.ProcessorCount} cores).");
    return 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("stopped before the end: no results");
    return 130;
}
finally
{
    Directory.Delete(work, recursive: true);
}

// Warns when the servers' data and the test file are not on one filesystem (a tmpfs /tmp and a disk elsewhere, say):
// the steps would then not compare like with like.
static async Task SameFilesystemAsync(string[] directories)
{
    var devices = (await Tools.RunAsync("stat", ["-c", "%d", .. directories])).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    if (devices.Distinct().Count() > 1)
        Console.WriteLine($"warning: not one filesystem: {string.Join(", ", directories.Zip(devices, (d, id) => $"{d} (device {id})"))}");
}

static double Mib(long bytes) => bytes / (1024.0 * 1024.0);

static string KibToMib(double kib) => (kib / 1024).ToString("0", CultureInfo.InvariantCulture);

static string Seconds(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);

static string Met(bool met) => met ? "yes" : "no";

// Which checksums the server computed, from the image as it read active: CloudPortal's hashAlgorithms, Glance's
// checksum (MD5) and os_hash_algo.
static string HashesOf(JsonElement image)
{
    if (image.TryGetProperty("hashAlgorithms", out var algorithms))
        return string.Join('+', algorithms.EnumerateArray().Select(a => a.GetString()));
    var glance = new List<string>();
    if (image.TryGetProperty("checksum", out var md5) && md5.ValueKind == JsonValueKind.String)
        glance.Add("md5");
    if (image.TryGetProperty("os_hash_algo", out var algo) && algo.ValueKind == JsonValueKind.String)
        glance.Add(algo.GetString()!);
    return glance.Count == 0 ? "none" : string.Join('+', glance);
}

async Task<TimeSpan> TimedAsync(Func<Task> step)
{
    stop.Token.ThrowIfCancellationRequested();
    await Tools.SettleAsync(large, options.Cold);
    return await Tools.TimeAsync(step);
}

string[] Rates(IEnumerable<TimeSpan> times)
{
    var rates = times.Select(t => Mib(new FileInfo(large).Length) / t.TotalSeconds).ToArray();
    return [.. new[] { rates.Min(), Stats.Median(rates), rates.Max() }.Select(r => r.ToString("0", CultureInfo.InvariantCulture))];
}

double MedianRate(IEnumerable<TimeSpan> times) => Stats.Median([.. times.Select(t => Mib(new FileInfo(large).Length) / t.TotalSeconds)]);

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    Console.Error.WriteLine($"\n{signal.Signal}: stopping; removing what the run made");
    stop.Cancel();
}
