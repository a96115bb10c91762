using CloudPortal.ComputeAgent;
using CloudPortal.Identity;
using Microsoft.AspNetCore.Http;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Modules;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Host;

/// <summary>Runs a set of modules (and optionally the local compute agent) in one web host.</summary>
internal static class ModuleHost
{
    public static async Task RunAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, bool withAgent, CancellationToken cancellationToken)
    {
        var role = withAgent && modules.Count == 0 ? "agent" : string.Join('+', modules.Select(m => m.Name).Append(withAgent ? "agent" : null).OfType<string>());
        var builder = CloudPortalApp.CreateBuilder(role, settings.ConfigFile, settings.Overrides);
        var options = builder.Configuration.GetCloudPortalOptions();
        if (withAgent && modules.Count == 0 && !options.Bus.UsesRabbitMq)
            throw new StartupException("the agent reaches the Scheduler over RabbitMQ: set CloudPortal:Bus:RabbitMq (or run `cloudportal all-in-one`, which includes a local agent)");
        await Preflight.CheckAsync(options, needsDatabase: modules.Count > 0, cancellationToken: cancellationToken);
        Preflight.EnsureCanListen(builder.Configuration["urls"]);

        foreach (var module in modules)
            module.Add(builder);
        if (withAgent && modules.Any(m => m.Name == IdentityModule.Name) && string.IsNullOrWhiteSpace(builder.Configuration["CloudPortal:Identity:Authority"]))
        {
            // The local agent fetches image files with a service token from the Identity in this same process.
            builder.Configuration["CloudPortal:Identity:Authority"] = LocalUrl(builder.Configuration["urls"]);
        }
        if (withAgent)
            builder.AddComputeAgentModule();
        builder.AddCloudPortalBus();

        await using var app = builder.Build();
        app.UseCloudPortalDefaults();
        foreach (var module in modules)
            module.Map(app);

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

    /// <summary>The first listen address, as this machine can call it.</summary>
    private static string LocalUrl(string? urls)
    {
        var first = (urls ?? "http://127.0.0.1:8080").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).First();
        var address = BindingAddress.Parse(first);
        var host = address.Host is "*" or "+" or "0.0.0.0" or "[::]" ? "127.0.0.1" : address.Host;
        return $"{address.Scheme}://{host}:{address.Port}/";
    }
}

/// <summary>What the command line adds on top of appsettings and the environment.</summary>
internal sealed record HostSettings(string? ConfigFile, Dictionary<string, string?> Overrides);
