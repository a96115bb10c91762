using CloudPortal.ComputeAgent.Capacity;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.ComputeAgent;

/// <summary>The compute agent: runs next to libvirtd on every compute node. Its truth is libvirt; it owns no database.</summary>
public static class ComputeAgentModule
{
    public const string Name = "agent";

    public static WebApplicationBuilder AddComputeAgentModule(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section);
        builder.Services.AddSingleton<NodeCapacityProbe>();
        builder.Services.AddHostedService<NodeReporter>();
        return builder;
    }

    public static WebApplication MapComputeAgentModule(this WebApplication app) => app;
}
