using System.Diagnostics;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>
/// The hermetic client environment of EC2-API.md §4: no config or credentials file, no instance metadata, no pager, no
/// hidden retries, nothing inherited from the developer's shell (every AWS_* variable is dropped first, proxies off).
/// </summary>
public static class HermeticEnvironment
{
    public static void Apply(ProcessStartInfo info, AccessKey key)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(key);
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("AWS_", StringComparison.OrdinalIgnoreCase) || name.EndsWith("_proxy", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("PYTHON", StringComparison.Ordinal) || name.StartsWith("PYENV", StringComparison.Ordinal))
                info.Environment.Remove(name);
        }
        info.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        info.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        info.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        info.Environment["AWS_PAGER"] = "";
        info.Environment["AWS_RETRY_MODE"] = "standard";
        info.Environment["AWS_MAX_ATTEMPTS"] = "1";
        info.Environment["AWS_DEFAULT_REGION"] = Ec2Cloud.Region;
        info.Environment["AWS_ACCESS_KEY_ID"] = key.Id;
        info.Environment["AWS_SECRET_ACCESS_KEY"] = key.Secret;
        info.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        info.Environment["PYTHONNOUSERSITE"] = "1";
    }

    public static Task<CommandResult> RunAsync(ProcessStartInfo info, TimeSpan timeout, string? standardInput = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.WorkingDirectory = AppContext.BaseDirectory;
        return ChildProcess.RunAsync(info, timeout, standardInput);
    }
}

/// <summary>
/// Debian's AWS CLI v2 (<c>/usr/bin/aws</c>, named by full path: a pyenv shim called <c>aws</c> may come first on PATH),
/// always with <c>--endpoint-url</c> (CLI 2.9 reads no endpoint from the environment).
/// </summary>
public sealed class AwsCli(string endpoint, AccessKey key)
{
    public const string Path = "/usr/bin/aws";

    public static void RequireInstalled()
    {
        if (!File.Exists(Path))
            TestEnvironment.Unavailable("the AWS CLI v2 at /usr/bin/aws", "apt-get install awscli");
    }

    public AccessKey Key => key;

    /// <summary>Runs <c>aws --endpoint-url E --output json ec2 ARGS</c>.</summary>
    public async Task<CommandResult> RunAsync(params string[] args)
    {
        RequireInstalled();
        var info = new ProcessStartInfo(Path);
        foreach (var arg in new[] { "--endpoint-url", endpoint, "--output", "json", "--no-cli-pager", "ec2" }.Concat(args))
            info.ArgumentList.Add(arg);
        HermeticEnvironment.Apply(info, key);
        return await HermeticEnvironment.RunAsync(info, TimeSpan.FromMinutes(12));
    }

    /// <summary>Runs and expects exit code 0; the JSON it printed (an empty object when it printed nothing).</summary>
    public async Task<JsonElement> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"aws ec2 {string.Join(' ', args)} as {key.User}: exit {result.ExitCode}\n{result.Output}");
        return result.StandardOutput.Trim().Length == 0 ? JsonDocument.Parse("{}").RootElement : JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
    }

    /// <summary>Runs and expects the CLI v2 service-error exit code 254 naming <paramref name="code"/>.</summary>
    public async Task<CommandResult> FailsWithAsync(string code, params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 254, $"aws ec2 {string.Join(' ', args)} as {key.User}: expected exit 254 ({code}), got {result.ExitCode}\n{result.Output}");
        Assert.Contains($"An error occurred ({code})", result.StandardError, StringComparison.Ordinal);
        return result;
    }
}

/// <summary>
/// The boto3 scripts under Scripts/ (copied to the output), run with Debian's <c>/usr/bin/python3</c> (boto3 1.26 from
/// python3-boto3). The endpoint and keys go in by environment; each script prints one JSON document.
/// </summary>
public static class Boto3Scripts
{
    public const string Python = "/usr/bin/python3";

    public static async Task<JsonElement> RunAsync(string script, Ec2Cloud cloud, AccessKey key, IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null, params string[] args)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        ArgumentNullException.ThrowIfNull(key);
        if (!File.Exists(Python))
            TestEnvironment.Unavailable("Debian's python3 at /usr/bin/python3", "apt-get install python3-boto3");
        var info = new ProcessStartInfo(Python);
        info.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "Scripts", script));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        HermeticEnvironment.Apply(info, key);
        info.Environment["EC2_ENDPOINT"] = cloud.Endpoint;
        info.Environment["EC2_REGION"] = Ec2Cloud.Region;
        foreach (var (name, k) in new[] { ("MEMBER", cloud.MemberA), ("READER", cloud.ReaderA), ("OTHER", cloud.MemberB) })
        {
            info.Environment[$"EC2_{name}_KEY_ID"] = k.Id;
            info.Environment[$"EC2_{name}_SECRET"] = k.Secret;
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            info.Environment[name] = value;
        var result = await HermeticEnvironment.RunAsync(info, timeout ?? TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0 && result.StandardError.Contains("No module named 'boto3'", StringComparison.Ordinal))
            TestEnvironment.Unavailable("boto3 for /usr/bin/python3", "apt-get install python3-boto3");
        Assert.True(result.ExitCode == 0, $"{script} {string.Join(' ', args)}: exit {result.ExitCode}\n{result.Output}");
        try
        {
            return JsonDocument.Parse(result.StandardOutput).RootElement.Clone();
        }
        catch (JsonException e)
        {
            Assert.Fail($"{script} printed no JSON ({e.Message}):\n{result.Output}");
            throw;
        }
    }

    /// <summary>Waits with a boto3 waiter polling every second (the CLI's waiters poll every 15 s).</summary>
    public static async Task WaitAsync(Ec2Cloud cloud, AccessKey key, string waiter, params string[] instanceIds)
    {
        var result = await RunAsync("wait.py", cloud, key, null, TimeSpan.FromMinutes(4), [waiter, .. instanceIds]);
        Assert.True(result.GetProperty("ok").GetBoolean(), $"waiter {waiter} for {string.Join(',', instanceIds)}: {result}");
    }
}
