using CloudPortal.Compute.Conductor;
using CloudPortal.Compute.Consoles;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.KeyPairs;
using CloudPortal.Compute.PowerSync;
using CloudPortal.Compute.Quotas;
using CloudPortal.Compute.ServerGroups;
using CloudPortal.Compute.Usage;
using CloudPortal.Contracts.Images;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using CloudPortal.ServiceDefaults.Security;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Compute;

/// <summary>
/// Nova's role: the API (flavors, key pairs, server groups, instances, consoles, usage) and the conductor that turns a
/// launch into a running guest — Scheduler, then the node's agent, with retries on other hosts, timeouts, power-state
/// sync from libvirt and reconciliation of what the nodes report.
/// </summary>
public static class ComputeModule
{
    public const string Name = "compute";

    public static WebApplicationBuilder AddComputeModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<ComputeDbContext, SqliteComputeDbContext, PostgresComputeDbContext>(Name);
        builder.Services.AddOptions<ComputeOptions>().BindConfiguration(ComputeOptions.Section);
        builder.Services.AddHostedService<DefaultFlavors>();
        builder.Services.AddScoped<LaunchInstances>();
        builder.Services.AddSingleton<ComputeUsageReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ComputeUsageReporter>());
        builder.Services.AddHostedService<StuckTaskReaper>();
        builder.AddQuotaLimitCache<ComputeDbContext>(Name, ComputeQuotas.Resources);
        builder.AddCloudPortalAuthentication();
        // Every subscription of the module, listed in one place.
        builder.AddConsumers(bus =>
        {
            bus.AddConsumer<BuildConsumers>(typeof(BuildConsumersDefinition));
            bus.AddConsumer<ActionConsumers>(typeof(ActionConsumersDefinition));
            bus.AddConsumer<PowerSyncConsumers>(typeof(PowerSyncConsumersDefinition));
            bus.AddRequestClient<GetLaunchImage>();
        });
        return builder;
    }

    public static WebApplication MapComputeModule(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapModuleApi(Name, "/compute/v1")
            .WithProjectHeader()
            .MapFlavors()
            .MapKeyPairs()
            .MapServerGroups()
            .MapInstances()
            .MapConsoles()
            .MapUsage()
            .MapQuota()
            .MapStrayDomains();
        return app;
    }
}
