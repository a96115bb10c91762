using System.Diagnostics;
using System.Globalization;

namespace CloudPortal.Bench.Upload;

/// <summary>The programs and /proc files the bench uses around its timed steps.</summary>
internal static class Tools
{
    /// <summary>A file of random data (nothing compresses, dedups or is sparse), written and flushed to the disk.</summary>
    public static async Task MakeRandomFileAsync(string path, long size)
    {
        var buffer = new byte[1 << 20];
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            for (long written = 0; written < size; written += buffer.Length)
            {
                Random.Shared.NextBytes(buffer);
                await file.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written)));
            }
            file.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// What every timed step starts from: <c>sync</c> first, so no step pays for the writeback of the one before it;
    /// then the source either read once (so it comes from the page cache, as for cp after a download) or every clean
    /// page dropped (so it comes from the disk).
    /// </summary>
    public static async Task SettleAsync(string source, bool cold)
    {
        await RunAsync("sync");
        if (cold)
        {
            await File.WriteAllTextAsync("/proc/sys/vm/drop_caches", "3");
            return;
        }
        await using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        var buffer = new byte[1 << 20];
        while (await file.ReadAsync(buffer) > 0)
        {
        }
    }

    /// <summary>Whether the page cache can be dropped (root); checked once before a --cold run.</summary>
    public static bool CanDropCaches()
    {
        try
        {
            File.WriteAllText("/proc/sys/vm/drop_caches", "3");
            return true;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    /// <summary>Runs a program to its end; its standard output is returned (openssl's digest), a failure thrown with its standard error.</summary>
    public static async Task<string> RunAsync(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {process.ExitCode}: {await stderr}");
        return await stdout;
    }

    public static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed;
    }

    /// <summary>
    /// Resets the peak RSS the kernel keeps for a process (VmHWM) to its current RSS, so the peak read after an upload
    /// is that upload's and not start-up's or an earlier one's: "5" to /proc/&lt;pid&gt;/clear_refs (Linux ≥ 4.0).
    /// </summary>
    public static void ResetPeakRss(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    /// <summary>The peak resident set size since start or the last <see cref="ResetPeakRss"/>, in KiB (VmHWM).</summary>
    public static long PeakRssKib(int pid) => StatusKib(pid, "VmHWM");

    /// <summary>A /proc/&lt;pid&gt;/status field in KiB.</summary>
    public static long StatusKib(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
