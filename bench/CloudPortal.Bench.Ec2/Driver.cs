using System.Diagnostics;
using System.Text.Json;

namespace CloudPortal.Bench.Ec2;

/// <summary>Where the driver sends its calls and as whom: an EC2 endpoint, its region, what to launch.</summary>
internal sealed record Target(string Name, string Endpoint, string Region, string InstanceType, string AccessKeyId, string SecretAccessKey);

/// <summary>The interpreter both the driver and moto_server run on, so the client code is the same against both.</summary>
internal sealed record Python(string Executable, string Description)
{
    private const string Probe = "import sys, boto3, botocore, moto; print(sys.executable); " +
        "print('python %s, boto3 %s, botocore %s, moto %s' % (sys.version.split()[0], boto3.__version__, botocore.__version__, moto.__version__))";

    /// <summary>The given interpreter, or the first of python3 (PATH) and /usr/bin/python3 that imports boto3 and moto; null with what each said otherwise.</summary>
    public static async Task<(Python? Python, string Tried)> FindAsync(string? given)
    {
        var tried = new List<string>();
        foreach (var candidate in given is null ? ["python3", "/usr/bin/python3"] : new[] { given })
        {
            var (exit, output, errors) = await Driver.ExecAsync(candidate, ["-c", Probe], null, null, TimeSpan.FromSeconds(60), CancellationToken.None);
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (exit == 0 && lines.Length >= 2)
                return (new Python(lines[0], lines[1]), "");
            tried.Add($"{candidate}: {(exit == -1 ? "not found" : errors.Trim().Split('\n').LastOrDefault())}");
        }
        return (null, string.Join("; ", tried));
    }
}

/// <summary>Runs one phase of ec2_driver.py against a target and returns its JSON result.</summary>
internal static class Driver
{
    /// <summary>The driver's stderr lines that mark the measured window (the C# side samples the server's CPU there).</summary>
    public const string Measuring = "@measuring";
    public const string Measured = "@measured";

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "ec2_driver.py");

    public static async Task<JsonElement> RunPhaseAsync(Python python, Target target, string phase, IEnumerable<string> options, Action<string>? onMarker,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        string[] arguments = ["-u", Script, phase, "--endpoint", target.Endpoint, "--region", target.Region, "--instance-type", target.InstanceType, .. options];
        var environment = new Dictionary<string, string?>
        {
            ["AWS_ACCESS_KEY_ID"] = target.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = target.SecretAccessKey,
            // Nothing of the user's AWS configuration: no profile, no credentials file, no instance metadata lookups.
            ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
            ["AWS_PROFILE"] = null,
            ["AWS_SESSION_TOKEN"] = null,
            ["AWS_DEFAULT_REGION"] = null,
            ["AWS_ENDPOINT_URL"] = null,
            ["NO_PROXY"] = "127.0.0.1,localhost",
        };
        var (exit, output, errors) = await ExecAsync(python.Executable, arguments, environment, line =>
        {
            if (line is Measuring or Measured)
                onMarker?.Invoke(line);
            else
                Console.WriteLine($"   [{target.Name}] {line}");
        }, timeout, cancellationToken);
        var result = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (exit != 0 || result is null)
            throw new InvalidOperationException($"ec2_driver.py {phase} against {target.Name} exited with {exit}: {Tail(errors)}");
        return JsonDocument.Parse(result).RootElement.Clone();
    }

    /// <summary>
    /// Runs a program to completion (bounded): exit code (-1: it could not start), stdout, stderr. Each stderr line also
    /// goes to <paramref name="onErrorLine"/> as it comes.
    /// </summary>
    public static async Task<(int Exit, string Output, string Errors)> ExecAsync(string file, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment,
        Action<string>? onErrorLine, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
            info.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                info.Environment.Remove(key);
            else
                info.Environment[key] = value;
        }
        using var process = new Process { StartInfo = info };
        var errors = new System.Text.StringBuilder();
        var gate = new Lock();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (gate)
                errors.AppendLine(e.Data);
            onErrorLine?.Invoke(e.Data);
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "", "");
        }
        process.BeginErrorReadLine();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            if (cancellationToken.IsCancellationRequested)
                throw;
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s: {Tail(errors.ToString())}");
        }
        // WaitForExit (no timeout) also waits for the redirected streams to reach their end.
        process.WaitForExit();
        var standardOutput = await output;
        lock (gate)
            return (process.ExitCode, standardOutput, errors.ToString());
    }

    private static string Tail(string text) => string.Join('\n', text.Trim().Split('\n').TakeLast(15));
}
