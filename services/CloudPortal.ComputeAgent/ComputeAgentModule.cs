using CloudPortal.ComputeAgent.Capacity;
using CloudPortal.ComputeAgent.Console;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Power;
using CloudPortal.ComputeAgent.Storage;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent;

/// <summary>The compute agent: runs next to libvirtd on every compute node. Its truth is libvirt; it owns no database.</summary>
public static class ComputeAgentModule
{
    public const string Name = "agent";

    public static WebApplicationBuilder AddComputeAgentModule(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section);
        builder.Services.AddSingleton(s => AgentSettings.From(s.GetRequiredService<IOptions<AgentOptions>>().Value, s.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<HypervisorSession>();

        // Disks: the image cache and the instance overlays, in two libvirt directory pools.
        builder.Services.AddSingleton<StoragePools>();
        builder.Services.AddSingleton<ImageCache>();
        builder.Services.AddSingleton<InstanceDisks>();
        // Downloads are bounded by CloudPortal:Agent:DownloadTimeout, not by HttpClient's 100 s default; the cache logs each one itself.
        builder.Services.AddHttpClient(ImageCache.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();

        // Instances: commands from the node's queue.
        builder.Services.AddSingleton<OwnedDomains>();
        builder.Services.AddSingleton<InstanceLocks>();
        builder.Services.AddSingleton<InstanceSpawner>();
        builder.Services.AddSingleton<InstanceOperations>();

        // Reports: power states as they change, every instance periodically, the node's capacity on every heartbeat.
        builder.Services.AddSingleton<PowerStateTracker>();
        builder.Services.AddSingleton<InstanceReporter>();
        builder.Services.AddHostedService(s => s.GetRequiredService<InstanceReporter>());
        builder.Services.AddHostedService<PowerStateMonitor>();
        builder.Services.AddSingleton<NodeCapacityProbe>();
        builder.Services.AddHostedService<NodeReporter>();

        // Every subscription of the agent: its own queue, compute-agent.{host}, nothing else.
        var options = ReadOptions(builder.Configuration);
        var queue = ComputeAgentQueue.Name(options.Host);
        var concurrency = Math.Max(1, options.ConcurrentCommands);
        // Commands are sent to the queue's exchange, never published: binding the commands' type exchanges would let a
        // node read every node's commands, and its RabbitMQ user may not (NodeIdentity).
        builder.AddConsumers(bus =>
        {
            bus.AddConsumer<InstanceCommandsConsumer>().Endpoint(e =>
            {
                e.Name = queue;
                e.ConcurrentMessageLimit = concurrency;
                e.ConfigureConsumeTopology = false;
            });
            bus.AddConsumer<ConsoleConsumer>().Endpoint(e =>
            {
                e.Name = queue;
                e.ConcurrentMessageLimit = concurrency;
                e.ConfigureConsumeTopology = false;
            });
        });
        builder.UseBusEndpointName(NodeIdentity.BusEndpointName(options.Host));
        return builder;
    }

    public static WebApplication MapComputeAgentModule(this WebApplication app) => app;

    /// <summary>The section as registration needs it (the queue name); a malformed value is an operator error at start-up.</summary>
    private static AgentOptions ReadOptions(IConfiguration configuration)
    {
        try
        {
            return configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new AgentOptions();
        }
        catch (InvalidOperationException ex)
        {
            throw new StartupException($"invalid configuration in section '{AgentOptions.Section}': {ex.Message}", ex);
        }
    }
}
