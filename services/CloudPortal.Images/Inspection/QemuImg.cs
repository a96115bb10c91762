using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Inspection;

public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    // .NET reports a child killed by a signal as 128 + the signal number.
    private const int KilledBySigkill = 128 + 9;
    private const int KilledBySigxcpu = 128 + 24;

    /// <summary>
    /// Whether qemu-img died of its resource limits rather than of a bad image: killed at the CPU limit (SIGXCPU at the
    /// soft limit, SIGKILL at the hard one), or failing an allocation under the address-space limit. qemu says the latter
    /// in a handful of ways: "Cannot allocate memory" (ENOMEM from a table it loads), "Could not allocate ..." (its own
    /// try-allocations), "failed to allocate" (GLib and qemu_memalign, which then abort) and qemu_thread_create failing
    /// with EAGAIN because a thread's stack no longer fits.
    /// </summary>
    public bool ExceededLimits =>
        ExitCode is KilledBySigkill or KilledBySigxcpu
        || (ExitCode != 0 && OutOfMemoryMarkers.Any(m => StandardError.Contains(m, StringComparison.OrdinalIgnoreCase)));

    private static readonly string[] OutOfMemoryMarkers =
        ["Cannot allocate memory", "Could not allocate", "failed to allocate", "qemu_thread_create"];
}

/// <summary>
/// Runs qemu-img. Arguments go through <see cref="ProcessStartInfo.ArgumentList"/>, never a shell, and
/// every call names the input format with <c>-f</c> so qemu-img never probes untrusted data itself.
/// Every call runs under util-linux <c>prlimit</c> with an address-space and a CPU-time limit, as OpenStack does
/// since the qcow2 CVEs (1 GiB and 30 s for <c>info</c>; conversions get their own budget), and under a wall-clock
/// timeout: a crafted header must not exhaust the host. prlimit sets the limits on itself and then execs qemu-img,
/// so the process we wait for (and kill) is qemu-img itself. Without prlimit nothing runs: an unlimited qemu-img
/// on untrusted data is what the limits exist to prevent (util-linux is an essential package on Debian).
/// </summary>
public sealed class QemuImg(IOptions<ImagesOptions> options)
{
    public Task<ProcessResult> InfoAsync(string path, string qemuFormat, CancellationToken cancellationToken)
    {
        var o = options.Value;
        return RunAsync(["info", "--output=json", "-f", qemuFormat, path], o.QemuImgInfoAddressSpace, o.QemuImgInfoCpuSeconds, o.InspectTimeout, cancellationToken);
    }

    /// <param name="progress">Called with each new whole percentage qemu-img reports (<c>-p</c>), in order, awaited before reading on.</param>
    public Task<ProcessResult> ConvertAsync(string source, string sourceFormat, string target, string targetFormat, Func<int, Task>? progress, CancellationToken cancellationToken)
    {
        var o = options.Value;
        return RunAsync(["convert", "-p", "-f", sourceFormat, "-O", targetFormat, source, target], o.ConvertAddressSpace, o.ConvertCpuSeconds, o.ConvertTimeout, cancellationToken, progress);
    }

    private async Task<ProcessResult> RunAsync(IReadOnlyList<string> args, long addressSpace, int cpuSeconds, TimeSpan timeout, CancellationToken cancellationToken,
        Func<int, Task>? progress = null)
    {
        var o = options.Value;
        var info = new ProcessStartInfo(o.Prlimit)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { $"--as={addressSpace.ToString(CultureInfo.InvariantCulture)}", $"--cpu={cpuSeconds.ToString(CultureInfo.InvariantCulture)}", "--", o.QemuImg })
            info.ArgumentList.Add(arg);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run {o.Prlimit}: {ex.Message} (install util-linux)", ex);
        }
        // Both streams at once, so a child filling one pipe never blocks while we wait on the other.
        var stdout = progress is null ? process.StandardOutput.ReadToEndAsync(CancellationToken.None) : ReadProgressAsync(process.StandardOutput, progress);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
            cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"qemu-img {args[0]} did not finish within {timeout}");
        }
        var result = new ProcessResult(process.ExitCode, await stdout, await stderr);
        // prlimit's own failures (it could not set a limit, or not exec qemu-img) are the host's problem, not the image's.
        if (result.ExitCode is 126 or 127 || (result.ExitCode != 0 && result.StandardError.StartsWith("prlimit:", StringComparison.Ordinal)))
            throw new InvalidOperationException($"cannot run {o.QemuImg} under {o.Prlimit}: {result.StandardError.Trim()} (install qemu-utils and util-linux)");
        return result;
    }

    /// <summary>
    /// Reads <c>qemu-img convert -p</c>'s output, <c>"    (12.50/100%)\r"</c> again and again, reporting each new whole
    /// percentage; returns the whole output. A callback that fails stops the reports, never the conversion.
    /// </summary>
    private static async Task<string> ReadProgressAsync(StreamReader output, Func<int, Task> progress)
    {
        var all = new StringBuilder();
        var line = new StringBuilder();
        var buffer = new char[256];
        var last = -1;
        var reporting = true;
        int read;
        while ((read = await output.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            all.Append(buffer, 0, read);
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] is not ('\r' or '\n'))
                {
                    line.Append(buffer[i]);
                    continue;
                }
                if (reporting && ParsePercent(line.ToString()) is { } percent && percent > last)
                {
                    last = percent;
                    try
                    {
                        await progress(percent);
                    }
                    catch (Exception)
                    {
                        reporting = false;   // a lost progress report is no reason to lose the conversion
                    }
                }
                line.Clear();
            }
        }
        return all.ToString();
    }

    /// <summary>The whole percentage of one progress line (<c>"(12.50/100%)"</c>), or null for anything else.</summary>
    public static int? ParsePercent(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var text = line.Trim();
        if (!text.StartsWith('(') || !text.EndsWith("/100%)", StringComparison.Ordinal))
            return null;
        return double.TryParse(text.AsSpan(1, text.Length - 1 - "/100%)".Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 100
            ? (int)value
            : null;
    }

    /// <summary>qemu-img's first error line, without the server's paths.</summary>
    public static string Describe(ProcessResult result, params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder(result.StandardError.Trim());
        foreach (var path in paths)
            text.Replace(path, "<image>");
        var line = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? $"exit code {result.ExitCode}";
        return line.Length > 300 ? line[..300] : line;
    }
}
