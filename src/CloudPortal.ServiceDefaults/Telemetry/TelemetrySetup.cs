using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CloudPortal.ServiceDefaults.Telemetry;

public static class TelemetrySetup
{
    /// <summary>MassTransit's ActivitySource and Meter.</summary>
    private const string MassTransitSource = "MassTransit";

    /// <summary>
    /// Traces (HTTP in and out, bus), metrics (HTTP, runtime, bus) and structured logs. Exported over
    /// OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, so a laptop install needs no collector.
    /// </summary>
    public static IHostApplicationBuilder AddCloudPortalTelemetry(this IHostApplicationBuilder builder, string role)
    {
        var options = builder.Configuration.GetCloudPortalOptions();
        builder.Logging.ClearProviders();
        if (string.Equals(options.LogFormat, "json", StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";
            });
        else
            builder.Logging.AddSimpleConsole(text =>
            {
                text.SingleLine = true;
                text.TimestampFormat = "HH:mm:ss ";
                text.UseUtcTimestamp = true;
            });
        builder.Logging.AddOpenTelemetry(logs =>
        {
            logs.IncludeFormattedMessage = true;
            logs.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("cloudportal", serviceInstanceId: $"{Environment.MachineName}:{role}"))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(http => http.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation()
                .AddSource(MassTransitSource))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(MassTransitSource)
                .AddMeter("CloudPortal.*"));

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.UseOtlpExporter();
        return builder;
    }
}
