using CloudPortal.ComputeAgent;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Messaging.DeadLetters;
using CloudPortal.ServiceDefaults.Modules;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Host;

/// <summary>Runs a set of modules (and optionally the local compute agent) in one web host.</summary>
internal static partial class ModuleHost
{
    public static async Task RunAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, bool withAgent, CancellationToken cancellationToken)
    {
        var builder = CreateBuilder(settings, modules, withAgent);
        var options = builder.Configuration.GetCloudPortalOptions();
        if (withAgent && modules.Count == 0 && !options.Bus.UsesRabbitMq)
            throw new StartupException("the agent reaches the Scheduler over RabbitMQ: set CloudPortal:Bus:RabbitMq (or run `cloudportal all-in-one`, which includes a local agent)");
        var transport = TransportSecurity.Enforce(builder.Configuration);
        await Preflight.CheckAsync(options, needsDatabase: modules.Count > 0, cancellationToken: cancellationToken);
        Preflight.EnsureCanListen(builder.Configuration["urls"]);
        // A data directory made before it was owner-only (or copied in under a wider umask); new files are 0600 already.
        var qemuDirectories = withAgent ? AgentSettings.From(builder.Configuration.GetSection(AgentOptions.Section).Get<AgentOptions>() ?? new(), builder.Configuration).QemuDirectories : [];
        var tightened = DataDirectory.Tighten(options.FullDataDir, qemuDirectories);

        await using var app = Compose(builder, modules, withAgent);
        if (tightened > 0)
            LogDataDirTightened(app.Logger, options.FullDataDir, tightened);
        if (transport.ServesInsecureHttp)
            LogInsecureHttp(app.Logger, string.Join(", ", transport.ExposedHttp));
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data directory {DataDir}: took group and other permissions off {Count} entries (directories are now 0700, files 0600)")]
    private static partial void LogDataDirTightened(ILogger logger, string dataDir, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "INSECURE: --insecure-http is set: passwords, session cookies and tokens travel unencrypted on {Addresses}. Only do this on a private network or behind a TLS-terminating proxy")]
    private static partial void LogInsecureHttp(ILogger logger, string addresses);

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
        // Every process with modules lists its own outboxes' and the bus's dead letters (docs/api/messaging.md).
        if (modules.Count > 0)
        {
            builder.AddDeadLetters();
            builder.AddModuleOpenApi(DeadLettersApi.Module);
        }
        builder.AddCloudPortalBus();

        var app = builder.Build();
        app.UseCloudPortalDefaults();
        foreach (var module in modules)
            module.Map(app);
        if (modules.Count > 0)
            app.MapDeadLetters();
        return app;
    }
}

/// <summary>What the command line adds on top of appsettings and the environment.</summary>
internal sealed record HostSettings(string? ConfigFile, Dictionary<string, string?> Overrides);
