using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace CloudPortal.Testing;

/// <summary>
/// A real <c>cloudportal</c> process (the built binary), with its output captured. Tests drive the
/// executable an operator runs, not an in-process imitation of it.
/// </summary>
public sealed class CloudPortalProcess : IAsyncDisposable
{
    /// <summary>
    /// How long a process may take to answer <c>/health/ready</c>. Generous: the suite runs several test projects'
    /// clouds, KVM guests and a browser on the same two cores, and a start once took over a minute there.
    /// </summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(3);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private CloudPortalProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_gate)
                return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>cloudportal.dll of the same build configuration as the tests.</summary>
    public static string Binary { get; } = FindBinary();

    public static CloudPortalProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment) =>
        StartUnder([], args, environment);

    /// <summary>Starts cloudportal under a wrapper command, e.g. <c>unshare --net --</c> for a network namespace of its own.</summary>
    public static CloudPortalProcess StartUnder(IReadOnlyList<string> wrapper, IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var info = StartInfo(args, environment);
        if (wrapper.Count > 0)
        {
            info.ArgumentList.Insert(0, info.FileName);
            for (var i = wrapper.Count - 1; i > 0; i--)
                info.ArgumentList.Insert(0, wrapper[i]);
            info.FileName = wrapper[0];
        }
        var process = new Process { StartInfo = info };
        process.Start();
        return new CloudPortalProcess(process);
    }

    /// <summary>Runs a command to completion (admin verbs, failing starts).</summary>
    public static Task<CommandResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null) =>
        ChildProcess.RunAsync(StartInfo(args, environment), timeout);

    /// <summary>Polls <c>/health/ready</c> until it answers 200; fails early with the output if the process dies.</summary>
    public async Task WaitUntilReadyAsync(string baseUrl, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"cloudportal exited with {_process.ExitCode} before it was ready:\n{Output}");
            try
            {
                using var response = await http.GetAsync(new Uri(new Uri(baseUrl), "/health/ready"));
                if (response.IsSuccessStatusCode)
                    return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{baseUrl}/health/ready did not answer 200 within {timeout}:\n{Output}");
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Kills the process at once (SIGKILL): a crash, with no chance to finish anything.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited)
            return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Stops like an operator would (SIGTERM), then kills if it does not stop.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
            return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        if (!await WaitForExitAsync(TimeSpan.FromSeconds(20)))
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_gate)
            _output.AppendLine(line);
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(Binary);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        // Only what the test says: nothing inherited from the developer's shell configures the process.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("CloudPortal__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(key);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["CloudPortal__Agent__HeartbeatInterval"] = "00:00:01";
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        return info;
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string FindBinary()
    {
        var configuration = typeof(CloudPortalProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "src", "CloudPortal.Host", "bin", configuration, "net10.0", "cloudportal.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the host first (dotnet build CloudPortal.sln -c {configuration})", path);
    }
}
