using System.Collections.Concurrent;
using CloudPortal.ComputeAgent.Tests.Libvirt;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>How one test's agent is set up: its own host name, pools and directories, removed when the test ends.</summary>
internal sealed record AgentSetup(string Libvirt, string Host, string Root, string ImagesPool, string InstancesPool)
{
    /// <summary>The libvirt URI the agent really uses (the simulated one when it falls back).</summary>
    public string EffectiveLibvirt { get; init; } = Libvirt;

    public string? RabbitMq { get; init; }

    public bool SimulatedFallback { get; init; }

    public Dictionary<string, string?> Extra { get; init; } = [];

    public string ImagesPath => Path.Combine(Root, "image-cache");

    public string InstancesPath => Path.Combine(Root, "instances");

    public string ConsolePath => Path.Combine(Root, "consoles");

    /// <summary>A unique agent whose pools, domains and directories <paramref name="leftovers"/> removes.</summary>
    public static AgentSetup Create(string libvirt, LibvirtLeftovers leftovers, string? effectiveLibvirt = null)
    {
        var uri = effectiveLibvirt ?? libvirt;
        var images = LibvirtLeftovers.UniqueName("img");
        var instances = LibvirtLeftovers.UniqueName("ins");
        leftovers.TrackPool(uri, images);
        leftovers.TrackPool(uri, instances);
        return new AgentSetup(libvirt, LibvirtLeftovers.UniqueName("node"), leftovers.Directory(), images, instances) { EffectiveLibvirt = uri };
    }
}

/// <summary>
/// The compute agent as <c>cloudportal agent</c> runs it (same module, same bus registration), in this process.
/// On the in-memory bus the test's recorder lives in the same bus; on RabbitMQ the test uses its own bus
/// (<see cref="ComputeStandIn"/>), which outlives agent restarts.
/// </summary>
internal sealed class AgentHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly LogCapture _logs;
    private bool _stopped;

    static AgentHost() =>
        // The host's application name is cloudportal, an assembly this test process does not have; read before any override applies.
        Environment.SetEnvironmentVariable("ASPNETCORE_PREVENTHOSTINGSTARTUP", "true");

    private AgentHost(WebApplication app, LogCapture logs, AgentSetup setup, ComputeSide? compute)
    {
        _app = app;
        _logs = logs;
        Setup = setup;
        Compute = compute;
    }

    public AgentSetup Setup { get; }

    /// <summary>The test's side of the in-memory bus; null on RabbitMQ.</summary>
    public ComputeSide? Compute { get; }

    public string Logs => _logs.Text;

    public static async Task<AgentHost> StartAsync(AgentSetup setup)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{FreePort.Next()}",
            ["CloudPortal:DataDir"] = Path.Combine(setup.Root, "data"),
            ["CloudPortal:Agent:Host"] = setup.Host,
            ["CloudPortal:Agent:Libvirt"] = setup.Libvirt,
            ["CloudPortal:Agent:SimulatedFallback"] = setup.SimulatedFallback ? "true" : "false",
            ["CloudPortal:Agent:ImagesPool"] = setup.ImagesPool,
            ["CloudPortal:Agent:ImagesPath"] = setup.ImagesPath,
            ["CloudPortal:Agent:InstancesPool"] = setup.InstancesPool,
            ["CloudPortal:Agent:InstancesPath"] = setup.InstancesPath,
            ["CloudPortal:Agent:ConsolePath"] = setup.ConsolePath,
            ["CloudPortal:Agent:ReportInterval"] = "00:00:01",
            ["CloudPortal:Agent:HeartbeatInterval"] = "00:00:30",
            ["CloudPortal:Bus:RabbitMq"] = setup.RabbitMq ?? "",
        };
        foreach (var (key, value) in setup.Extra)
            overrides[key] = value;
        var builder = CloudPortalApp.CreateBuilder("agent", null, overrides);
        var logs = new LogCapture();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Warning);

        builder.AddComputeAgentModule();
        var recorder = new BusRecorder();
        if (setup.RabbitMq is null)
        {
            builder.Services.AddSingleton(recorder);
            builder.AddConsumers(bus => bus.AddConsumer<RecordingConsumer>().Endpoint(e => e.Name = "agent-test-recorder"));
        }
        builder.AddCloudPortalBus();
        var app = builder.Build();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var compute = setup.RabbitMq is null ? new ComputeSide(app.Services.GetRequiredService<IBus>(), recorder, setup.Host) : null;
        return new AgentHost(app, logs, setup, compute);
    }

    /// <summary>Stops like a service stop: the bus and background services end, libvirt keeps every domain.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _app.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        // Shown with the test's result: what the agent did, for a failure's diagnosis.
        TestContext.Current.TestOutputHelper?.WriteLine($"--- agent {Setup.Host} log ---\n{Logs}");
    }

    private sealed class LogCapture : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public string Text => string.Join('\n', _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");
        }
    }
}
