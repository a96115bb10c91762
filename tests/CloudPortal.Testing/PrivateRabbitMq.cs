using System.Diagnostics;

namespace CloudPortal.Testing;

/// <summary>
/// A RabbitMQ node of one test's own (its own name, ports and data directory beside the shared broker), so the test
/// can restart a real broker — connections dropped, quorum queues recovered from disk — without disturbing every other
/// test that uses the shared one. Stopped and removed on dispose.
/// </summary>
public sealed class PrivateRabbitMq : IAsyncDisposable
{
    private readonly string _directory;

    private PrivateRabbitMq(string node, int port, string directory)
    {
        Node = node;
        Port = port;
        _directory = directory;
    }

    public string Node { get; }

    public int Port { get; }

    /// <summary>The broker's default user, which RabbitMQ admits from loopback only.</summary>
    public string Uri => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<PrivateRabbitMq> StartAsync()
    {
        if (!File.Exists("/usr/sbin/rabbitmq-server"))
            TestEnvironment.Unavailable("RabbitMQ", "rabbitmq-server is not installed");
        var name = $"cptest{Guid.NewGuid():N}"[..16];
        var directory = Path.Combine(Path.GetTempPath(), name);
        Directory.CreateDirectory(directory);
        // The server runs as the rabbitmq user: it must be able to write here.
        File.SetUnixFileMode(directory, (UnixFileMode)0x1FF);
        var plugins = Path.Combine(directory, "enabled_plugins");
        await File.WriteAllTextAsync(plugins, "[].");
        File.SetUnixFileMode(plugins, (UnixFileMode)0x1B6);
        var broker = new PrivateRabbitMq($"{name}@localhost", FreePort.Next(), directory);
        var start = new ProcessStartInfo("rabbitmq-server", ["-detached"]);
        start.Environment["RABBITMQ_NODENAME"] = broker.Node;
        start.Environment["RABBITMQ_NODE_PORT"] = broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_DIST_PORT"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(directory, "mnesia");
        start.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(directory, "log");
        start.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = plugins;
        start.Environment["RABBITMQ_PID_FILE"] = Path.Combine(directory, "pid");
        await ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60));
        try
        {
            await broker.AwaitStartupAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }
        return broker;
    }

    /// <summary>A real restart: the broker application stops (every connection drops) and starts again from its data.</summary>
    public async Task RestartAsync(TimeSpan downFor)
    {
        await StopAppAsync();
        await Task.Delay(downFor);
        await StartAppAsync();
    }

    /// <summary>Stops the broker application (every connection drops, nothing accepts new ones) until <see cref="StartAppAsync"/>.</summary>
    public Task StopAppAsync() => CtlAsync("stop_app");

    public async Task StartAppAsync()
    {
        await CtlAsync("start_app");
        await AwaitStartupAsync();
    }

    private async Task AwaitStartupAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await CtlAsync("await_startup", check: false)).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"RabbitMQ node {Node} did not start within 60 s");
            await Task.Delay(500);
        }
    }

    private async Task<CommandResult> CtlAsync(string command, bool check = true)
    {
        var result = await ChildProcess.RunAsync("rabbitmqctl", ["-n", Node, command], TimeSpan.FromSeconds(90));
        if (check && result.ExitCode != 0)
            throw new InvalidOperationException($"rabbitmqctl -n {Node} {command} failed: {result.Output}");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await CtlAsync("stop", check: false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
