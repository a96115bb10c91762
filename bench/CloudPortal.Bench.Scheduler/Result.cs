using System.Globalization;
using System.Text;

namespace CloudPortal.Bench.Scheduler;

/// <summary>One row of the table: latencies of every decision of one run.</summary>
internal sealed record Result(int Hosts, string Mode, int Decisions, int? Placed, TimeSpan Elapsed, double[] LatenciesMs)
{
    public double PerSecond => Decisions / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public static string Table(IReadOnlyList<Result> results)
    {
        string[] headers = ["hosts", "mode", "decisions", "placed", "decisions/s", "p50 ms", "p99 ms", "p50 µs/host"];
        var rows = results.Select(r => new[]
        {
            r.Hosts.ToString("N0", CultureInfo.InvariantCulture),
            r.Mode,
            r.Decisions.ToString("N0", CultureInfo.InvariantCulture),
            r.Placed?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
            r.PerSecond.ToString("N0", CultureInfo.InvariantCulture),
            r.Percentile(50).ToString("F3", CultureInfo.InvariantCulture),
            r.Percentile(99).ToString("F3", CultureInfo.InvariantCulture),
            (r.Percentile(50) * 1000 / r.Hosts).ToString("F3", CultureInfo.InvariantCulture),
        }).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", headers.Select((h, i) => i == 1 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))) + " |");
        text.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 1 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var row in rows)
            text.AppendLine("| " + string.Join(" | ", row.Select((c, i) => i == 1 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |");
        return text.ToString();
    }
}
