using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Scheduler.Placement;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler;

public sealed class SchedulerOptions
{
    /// <summary>A node whose last report is older than this is down and gets no new instances.</summary>
    public TimeSpan NodeDownAfter { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>The zone of a node that reports for the first time (an admin may move it).</summary>
    public string DefaultAvailabilityZone { get; set; } = Hosts.ComputeNode.DefaultAvailabilityZone;

    /// <summary>
    /// The primary host is picked at random among this many best-weighed hosts. 1 always takes the best; more keeps
    /// parallel schedulers (distributed mode) from all claiming on the same host at once.
    /// </summary>
    public int HostSubsetSize { get; set; } = 3;

    /// <summary>How many unclaimed alternates a selection returns, for rescheduling after a failed build.</summary>
    public int Alternates { get; set; } = 2;

    /// <summary>Positive spreads instances over hosts with the most free RAM; negative stacks them.</summary>
    public double RamWeightMultiplier { get; set; } = 1.0;

    /// <summary>Positive prefers hosts with the most free vCPUs; negative stacks.</summary>
    public double CpuWeightMultiplier { get; set; } = 1.0;

    /// <summary>Negative prefers hosts that run fewer instances; positive packs.</summary>
    public double InstanceCountWeightMultiplier { get; set; } = -1.0;

    /// <summary>High, so that a soft server group policy outweighs spreading whenever a host allows it.</summary>
    public double SoftAffinityWeightMultiplier { get; set; } = 10.0;

    public double SoftAntiAffinityWeightMultiplier { get; set; } = 10.0;

    /// <summary>How often one claim re-reads a host whose generation moved under it before trying the next host.</summary>
    public int ClaimAttempts { get; set; } = 10;

    /// <summary>How many fresh snapshots a request may use when concurrent claims took every candidate.</summary>
    public int PlacementRounds { get; set; } = 3;

    /// <summary>
    /// How old the scheduler's in-memory view of the hosts may grow before it is read again in the background (it is
    /// read before use at ten times this). Claims are checked against the database whatever its age.
    /// </summary>
    public TimeSpan HostStateMaxAge { get; set; } = TimeSpan.FromSeconds(1);
}

public static class SchedulerModule
{
    public const string Name = "scheduler";

    public static WebApplicationBuilder AddSchedulerModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<SchedulerDbContext, SqliteSchedulerDbContext, PostgresSchedulerDbContext>(Name);
        builder.Services.AddSchedulerServices();
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration("CloudPortal:Scheduler");
        builder.AddConsumers(AddSchedulerConsumers);
        builder.AddCloudPortalAuthentication();
        return builder;
    }

    /// <summary>What the Scheduler answers on the bus (also used by the tests that run it over RabbitMQ).</summary>
    public static void AddSchedulerConsumers(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ComputeNodeReportedConsumer>(typeof(ComputeNodeReportedConsumerDefinition));
        bus.AddConsumer<SelectHostsConsumer>(typeof(SelectHostsConsumerDefinition));
        bus.AddConsumer<CheckFitConsumer>(typeof(CheckFitConsumerDefinition));
        bus.AddConsumer<ListAvailabilityZonesConsumer>();
        bus.AddConsumer<ReleaseAllocationConsumer>(typeof(ReleaseAllocationConsumerDefinition));
    }

    /// <summary>Placement and claims over a registered <see cref="SchedulerDbContext"/> (also used by tests and benchmarks).</summary>
    public static IServiceCollection AddSchedulerServices(this IServiceCollection services)
    {
        services.AddOptions<SchedulerOptions>();
        services.AddLogging();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => HostSelector.Create(sp.GetRequiredService<IOptions<SchedulerOptions>>().Value, Random.Shared));
        services.AddSingleton<HostStateCache>();
        services.AddScoped<ClaimService>();
        services.AddScoped<PlacementService>();
        return services;
    }

    /// <summary>The Scheduler talks over the bus; over HTTP it has admin read endpoints only.</summary>
    public static WebApplication MapSchedulerModule(this WebApplication app)
    {
        app.MapModuleApi(Name, "/scheduler/v1").MapHosts();
        return app;
    }
}
