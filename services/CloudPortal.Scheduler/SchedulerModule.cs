using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Scheduler;

public sealed class SchedulerOptions
{
    /// <summary>A node whose last report is older than this is down and gets no new instances.</summary>
    public TimeSpan NodeDownAfter { get; set; } = TimeSpan.FromSeconds(90);
}

public static class SchedulerModule
{
    public const string Name = "scheduler";

    public static WebApplicationBuilder AddSchedulerModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<SchedulerDbContext, SqliteSchedulerDbContext, PostgresSchedulerDbContext>(Name);
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration("CloudPortal:Scheduler");
        builder.AddConsumers(bus => bus.AddConsumer<ComputeNodeReportedConsumer>(typeof(ComputeNodeReportedConsumerDefinition)));
        builder.AddCloudPortalAuthentication();
        return builder;
    }

    /// <summary>The Scheduler talks over the bus only; its admin endpoints arrive with placement.</summary>
    public static WebApplication MapSchedulerModule(this WebApplication app)
    {
        app.MapModuleApi("/scheduler/v1").MapHosts();
        return app;
    }
}
