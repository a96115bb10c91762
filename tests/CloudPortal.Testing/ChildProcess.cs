using System.Diagnostics;
using System.Text;

namespace CloudPortal.Testing;

public sealed record CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public string Output => StandardOutput + StandardError;
}

/// <summary>
/// The one way tests run a tool to completion (qemu-img, virsh, rabbitmqctl, the AWS CLI, python3, ssh-keygen,
/// docker-compose, cloudportal admin verbs): both output streams are read at once from the start, so a child that
/// fills one pipe never blocks while we wait on the other; standard input, if any, is written and then closed; and a
/// child that outlives its timeout is killed with everything it started, and the test fails with what it printed.
/// </summary>
public static class ChildProcess
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(90);

    public static Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, string? standardInput = null)
    {
        var info = new ProcessStartInfo(file);
        foreach (var arg in args ?? [])
            info.ArgumentList.Add(arg);
        return RunAsync(info, timeout, standardInput);
    }

    public static async Task<CommandResult> RunAsync(ProcessStartInfo info, TimeSpan? timeout = null, string? standardInput = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        var encoding = info.StandardInputEncoding ?? new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var (exitCode, stdout, stderr) = await RunBytesAsync(info, timeout, standardInput is null ? null : encoding.GetBytes(standardInput));
        return new CommandResult(exitCode, (info.StandardOutputEncoding ?? Encoding.UTF8).GetString(stdout), stderr);
    }

    /// <summary>For tools whose standard input or output is binary (openssl digests, key material).</summary>
    public static async Task<(int ExitCode, byte[] StandardOutput, string StandardError)> RunBytesAsync(ProcessStartInfo info, TimeSpan? timeout = null, byte[]? standardInput = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        var limit = timeout ?? DefaultTimeout;
        using var process = Process.Start(info)!;
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(limit);
        try
        {
            try
            {
                if (standardInput is not null)
                    await process.StandardInput.BaseStream.WriteAsync(standardInput, cts.Token);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child exited without reading all its input; its exit code and output say why.
            }
            await process.WaitForExitAsync(cts.Token);
            // The pipes close when the last writer exits: a detached grandchild that kept them would hang us here.
            await Task.WhenAll(copy, stderr).WaitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
            // The kill closed the pipes unless a detached grandchild holds them: what was printed, if it comes at once.
            await Task.WhenAny(Task.WhenAll(copy, stderr), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
            var output = copy.IsCompletedSuccessfully ? Encoding.UTF8.GetString(stdout.ToArray()) : "";
            var errors = stderr.IsCompletedSuccessfully ? stderr.Result : "";
            throw new TimeoutException($"{Describe(info)} did not finish within {limit}:\n{output}\n{errors}");
        }
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }

    private static string Describe(ProcessStartInfo info) => $"{info.FileName} {string.Join(' ', info.ArgumentList)}";
}
