using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Health;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.Json;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CloudPortal.ServiceDefaults;

/// <summary>
/// The web host every <c>cloudportal</c> role runs in. Configuration, lowest precedence first:
/// <c>appsettings.json</c> next to the binary, an optional <c>--config</c> file, environment variables
/// (<c>CloudPortal__Database__Provider=Postgres</c>), then command-line options.
/// </summary>
public static class CloudPortalApp
{
    public static WebApplicationBuilder CreateBuilder(string role, string? configFile, IDictionary<string, string?> overrides)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "cloudportal",
        });
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();   // after Kestrel's own: the last one wins

        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new StartupException($"configuration file '{configFile}' does not exist");
            // Above appsettings.json, below environment variables.
            // The unprefixed environment source (the ASPNETCORE_/DOTNET_ ones come earlier, below appsettings.json).
            var environmentIndex = builder.Configuration.Sources.ToList().FindLastIndex(s => s is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
            var file = new JsonConfigurationSource { Path = Path.GetFullPath(configFile), Optional = false };
            file.ResolveFileProvider();
            builder.Configuration.Sources.Insert(Math.Max(environmentIndex, 0), file);
        }
        // Docker and Kubernetes secrets: one file per key (a file named CloudPortal__Bus__RabbitMq holds that setting),
        // so that passwords need not sit in the environment, where `docker inspect` and /proc show them. Above the
        // environment, below the command line.
        if (builder.Configuration[$"{CloudPortalOptions.Section}:{nameof(CloudPortalOptions.SecretsDir)}"] is { Length: > 0 } secrets)
        {
            if (!Directory.Exists(secrets))
                throw new StartupException($"secrets directory '{secrets}' does not exist (set CloudPortal:SecretsDir)");
            builder.Configuration.AddKeyPerFile(Path.GetFullPath(secrets), optional: false);
        }
        builder.Configuration.AddInMemoryCollection(overrides);

        builder.AddCloudPortalTelemetry(role);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddCloudPortalProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new UtcDateTimeConverter());
            json.SerializerOptions.Converters.Add(new UtcDateTimeOffsetConverter());
        });
        builder.Services.AddHealthChecks();
        return builder;
    }

    /// <summary>Error handling, health endpoints and the modules' OpenAPI documents; modules map their own routes after this.</summary>
    public static WebApplication UseCloudPortalDefaults(this WebApplication app)
    {
        app.UseCloudPortalProblemDetails();
        app.UseRouting();
        if (app.Services.GetService<Microsoft.AspNetCore.Authentication.IAuthenticationSchemeProvider>() is not null)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        app.MapHealthEndpoints();
        app.MapModuleOpenApi();
        return app;
    }
}
