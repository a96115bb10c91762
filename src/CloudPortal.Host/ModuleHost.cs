using CloudPortal.ComputeAgent;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Modules;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Host;

/// <summary>Runs a set of modules (and optionally the local compute agent) in one web host.</summary>
internal static class ModuleHost
{
    public static async Task RunAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, bool withAgent, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder(settings, modules, withAgent);
        var options = builder.Configuration.GetCloudPortalOptions();
        if (withAgent && modules.Count == 0 && !options.Bus.UsesRabbitMq)
            throw new StartupException("the agent reaches the Scheduler over RabbitMQ: set CloudPortal:Bus:RabbitMq (or run `cloudportal all-in-one`, which includes a local agent)");
        await Preflight.CheckAsync(options, needsDatabase: modules.Count > 0, cancellationToken: cancellationToken);
        Preflight.EnsureCanListen(builder.Configuration["urls"]);

        await using var app = Compose(builder, modules, withAgent);
        await app.Services.MigrateModuleDatabasesAsync(cancellationToken);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            throw new StartupException($"cannot listen on {string.Join(", ", app.Urls.DefaultIfEmpty(builder.Configuration["urls"] ?? "the configured address"))}: {ex.Message} (set --urls)", ex);
        }
        await app.WaitForShutdownAsync(cancellationToken);
    }

    public static WebApplicationBuilder CreateBuilder(HostSettings settings, IReadOnlyList<CloudModule> modules, bool withAgent)
    {
        var role = withAgent && modules.Count == 0 ? "agent" : string.Join('+', modules.Select(m => m.Name).Append(withAgent ? "agent" : null).OfType<string>());
        return CloudPortalApp.CreateBuilder(role, settings.ConfigFile, settings.Overrides);
    }

    /// <summary>
    /// The web application of a role, built and mapped but not started: what <see cref="RunAsync"/> serves, and
    /// what <c>cloudportal admin routes</c> lists.
    /// </summary>
    public static WebApplication Compose(WebApplicationBuilder builder, IReadOnlyList<CloudModule> modules, bool withAgent)
    {
        foreach (var module in modules)
        {
            module.Add(builder);
            // Served at /openapi/{module}.json once the module maps its API (MapModuleApi).
            builder.AddModuleOpenApi(module.Name);
        }
        if (withAgent)
            builder.AddComputeAgentModule();
        builder.AddCloudPortalBus();

        var app = builder.Build();
        app.UseCloudPortalDefaults();
        foreach (var module in modules)
            module.Map(app);
        return app;
    }
}

/// <summary>What the command line adds on top of appsettings and the environment.</summary>
internal sealed record HostSettings(string? ConfigFile, Dictionary<string, string?> Overrides);
