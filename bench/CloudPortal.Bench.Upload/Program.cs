using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Bench.Common;
using CloudPortal.Testing;

// Upload benchmark: a generated qcow2 image (random data, so nothing compresses or dedups) uploaded through
// PUT /images/v2/images/{id}/file against `cp` of the same file on the same disk, for a small and a large
// size. It prints both throughputs, their ratio and the server's peak RSS (VmHWM) after each upload: flat
// memory means the peak does not grow with the file.
//   dotnet run -c Release --project bench/CloudPortal.Bench.Upload [-- --gib 2]
var gib = args.Length >= 2 && args[0] == "--gib" ? double.Parse(args[1], CultureInfo.InvariantCulture) : 2.0;
var sizes = new[] { 256L << 20, (long)(gib * (1L << 30)) };
var work = Path.Combine(Path.GetTempPath(), $"cloudportal-bench-upload-{Guid.NewGuid():N}");
Directory.CreateDirectory(work);
Console.WriteLine($"work directory {work} (same filesystem as the server's data directory: {Path.GetTempPath()})");

try
{
    await using var cloud = await TestCloud.StartAsync("all-in-one");
    var tenants = await Tenants.CreateAsync(cloud);
    var pid = ProcessStats.CloudPortalPid(cloud.Deployment.DataDir);
    using var api = OidcClient.Api(cloud.ImagesUrl, tenants.Token("memberA"), tenants.ProjectA);
    api.Timeout = TimeSpan.FromMinutes(30);
    var baseline = Status(pid, "VmHWM");
    Console.WriteLine($"server pid {pid}; peak RSS after start-up and sign-in: {baseline / 1024} MiB");

    var rows = new List<string[]>();
    // Two starting points: the source in the page cache (what cp is best at), and the source on disk only, caches
    // dropped before each copy and each upload (copying a file from the disk, which needs root; skipped otherwise).
    var canDrop = DropCaches();
    foreach (var size in sizes)
    {
        var image = await MakeQcow2Async(work, size);
        var length = new FileInfo(image).Length;
        foreach (var cold in canDrop ? [false, true] : new[] { false })
        {
            // Every measurement starts with no dirty pages, so none pays for the previous one's writeback.
            var copy = Path.Combine(work, "copy.qcow2");
            await Settle(image, cold);
            var cp = await TimeAsync(() => RunAsync("cp", image, copy));
            File.Delete(copy);
            await Settle(image, cold);
            var cpSync = await TimeAsync(async () => { await RunAsync("cp", image, copy); await RunAsync("sync", "-f", copy); });
            File.Delete(copy);

            using var created = await api.PostAsJsonAsync("images/v2/images", new { name = $"bench-{size >> 20}m", diskFormat = "qcow2" });
            created.EnsureSuccessStatusCode();
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            await Settle(image, cold);
            var serverCpu = ProcessStats.CpuSeconds(pid);
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
            var upload = await TimeAsync(async () =>
            {
                await using var file = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
                var content = new StreamContent(file, 1 << 20);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = length;
                using var response = await api.PutAsync($"images/v2/images/{id}/file", content);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"upload: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            });
            var peak = Status(pid, "VmHWM");
            serverCpu = ProcessStats.CpuSeconds(pid) - serverCpu;
            var clientSeconds = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds;
            (await api.DeleteAsync($"images/v2/images/{id}")).EnsureSuccessStatusCode();

            double Rate(TimeSpan t) => length / (1024.0 * 1024.0) / t.TotalSeconds;
            rows.Add([
                $"{length / (1024.0 * 1024.0):0} MiB",
                cold ? "disk (caches dropped)" : "page cache",
                $"{Rate(cp):0}",
                $"{Rate(cpSync):0}",
                $"{Rate(upload):0}",
                $"{Rate(upload) / Rate(cp):0.00}",
                $"{Rate(upload) / Rate(cpSync):0.00}",
                $"{peak / 1024} MiB",
                $"{serverCpu / upload.TotalSeconds:0.00} / {clientSeconds / upload.TotalSeconds:0.00}",
            ]);
        }
        File.Delete(image);
    }

    Console.WriteLine();
    string[] header = ["file", "source", "cp MiB/s", "cp+sync MiB/s", "upload MiB/s", "upload/cp", "upload/(cp+sync)", "server peak RSS", "cores busy server / client"];
    var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
    Console.WriteLine("| " + string.Join(" | ", header.Select((h, i) => h.PadRight(widths[i]))) + " |");
    Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
    foreach (var row in rows)
        Console.WriteLine("| " + string.Join(" | ", row.Select((c, i) => c.PadLeft(widths[i]))) + " |");
    Console.WriteLine();
    Console.WriteLine("upload = HTTP PUT through Kestrel, streamed to a staging file with SHA-256 + SHA-512, fsync, qemu-img info, rename.");
    Console.WriteLine("cp writes to the page cache without fsync; cp+sync adds the flush the server does before an image is active.");
    Console.WriteLine($"server peak RSS at start: {baseline / 1024} MiB; target: upload ≥ 0.8 × cp, peak flat across file sizes.");
    Console.WriteLine($"cores busy = CPU seconds used during the upload / its wall time ({Environment.ProcessorCount} cores here); the client is this process.");
    // The server's own account of each upload: time receiving (network + hashing + write + fsync) vs inspecting and committing.
    foreach (var line in cloud.IdentityProcess.Output.Split('\n').Where(l => l.Contains("received in", StringComparison.Ordinal)))
        Console.WriteLine("server: " + line.Trim());
}
finally
{
    Directory.Delete(work, recursive: true);
}

static async Task<string> MakeQcow2Async(string directory, long size)
{
    var raw = Path.Combine(directory, "source.raw");
    var buffer = new byte[1 << 20];
    await using (var file = new FileStream(raw, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
    {
        for (long written = 0; written < size; written += buffer.Length)
        {
            Random.Shared.NextBytes(buffer);
            await file.WriteAsync(buffer);
        }
    }
    var qcow2 = Path.Combine(directory, "source.qcow2");
    await RunAsync("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
    File.Delete(raw);
    return qcow2;
}

// Flushes dirty pages; then either reads the source once (into the page cache) or drops every clean page (from disk).
static async Task Settle(string source, bool cold)
{
    await RunAsync("sync");
    if (cold)
        DropCaches();
    else
    {
        await using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        while (await file.ReadAsync(buffer) > 0)
        {
        }
    }
}

static bool DropCaches()
{
    try
    {
        File.WriteAllText("/proc/sys/vm/drop_caches", "3");
        return true;
    }
    catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
    {
        Console.WriteLine($"cannot drop the page cache ({ex.Message}): measuring from the page cache only");
        return false;
    }
}

static async Task RunAsync(string program, params string[] args)
{
    var info = new ProcessStartInfo(program) { RedirectStandardError = true };
    foreach (var arg in args)
        info.ArgumentList.Add(arg);
    using var process = Process.Start(info)!;
    var stderr = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    if (process.ExitCode != 0)
        throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {await stderr}");
}

static async Task<TimeSpan> TimeAsync(Func<Task> action)
{
    var watch = Stopwatch.StartNew();
    await action();
    return watch.Elapsed;
}

// A /proc/<pid>/status field in KiB (VmHWM: the peak resident set size).
static long Status(int pid, string field)
{
    var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
