using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Inspection;

public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs qemu-img. Arguments go through <see cref="ProcessStartInfo.ArgumentList"/>, never a shell, and
/// every call names the input format with <c>-f</c> so qemu-img never probes untrusted data itself.
/// <c>info</c> runs under prlimit (1 GiB address space, 30 s CPU) when prlimit exists, as OpenStack does:
/// a crafted header must not exhaust the host.
/// </summary>
public sealed class QemuImg(IOptions<ImagesOptions> options)
{
    private const string Prlimit = "/usr/bin/prlimit";

    public Task<ProcessResult> InfoAsync(string path, string qemuFormat, CancellationToken cancellationToken) =>
        RunAsync(["info", "--output=json", "-f", qemuFormat, path], limited: true, options.Value.InspectTimeout, cancellationToken);

    public Task<ProcessResult> ConvertAsync(string source, string sourceFormat, string target, string targetFormat, CancellationToken cancellationToken) =>
        RunAsync(["convert", "-f", sourceFormat, "-O", targetFormat, source, target], limited: false, Timeout.InfiniteTimeSpan, cancellationToken);

    private async Task<ProcessResult> RunAsync(IReadOnlyList<string> args, bool limited, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (limited && File.Exists(Prlimit))
        {
            info.FileName = Prlimit;
            foreach (var arg in new[] { "--as=1073741824", "--cpu=30", "--", options.Value.QemuImg })
                info.ArgumentList.Add(arg);
        }
        else
        {
            info.FileName = options.Value.QemuImg;
        }
        foreach (var arg in args)
            info.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"cannot run {options.Value.QemuImg}: {ex.Message} (install qemu-utils)", ex);
        }
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
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
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>qemu-img's first error line, without the server's paths.</summary>
    public static string Describe(ProcessResult result, params string[] paths)
    {
        var text = new StringBuilder(result.StandardError.Trim());
        foreach (var path in paths)
            text.Replace(path, "<image>");
        var line = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? $"exit code {result.ExitCode}";
        return line.Length > 300 ? line[..300] : line;
    }
}
