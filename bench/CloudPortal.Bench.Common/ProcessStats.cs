using System.Globalization;

namespace CloudPortal.Bench.Common;

/// <summary>What /proc tells about the processes a benchmark runs and the machine it runs on.</summary>
public static class ProcessStats
{
    /// <summary>The cloudportal process serving <paramref name="dataDir"/>, found through /proc.</summary>
    public static int CloudPortalPid(string dataDir)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("cloudportal.dll", StringComparison.Ordinal) && cmdline.Contains(dataDir, StringComparison.Ordinal))
                    return pid;
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        throw new InvalidOperationException($"no cloudportal process for {dataDir}");
    }

    /// <summary>CPU time (user + system) a process has used so far, from /proc/&lt;pid&gt;/stat (clock ticks of 1/100 s).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The load average over 1, 5 and 15 minutes, as /proc/loadavg has it.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
