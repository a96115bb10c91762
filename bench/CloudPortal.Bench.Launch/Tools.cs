using System.Diagnostics;

namespace CloudPortal.Bench.Launch;

internal static class Tools
{
    /// <summary>Runs a tool to completion (bounded), throwing with its error output when it fails.</summary>
    public static void Run(string file, params string[] arguments) => RunAsync(file, arguments).GetAwaiter().GetResult();

    /// <summary>
    /// The same without holding a thread while the tool runs: the raw path starts several virsh processes at once, and
    /// a blocked thread per process would make the thread pool (two threads on two cores) the bottleneck being measured.
    /// </summary>
    public static async Task RunAsync(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 60 s");
        }
        await output;
        var error = await errors;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()}");
    }
}
