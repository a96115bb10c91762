using CloudPortal.Network.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Network;

public static class NetworkModule
{
    public const string Name = "network";

    public static WebApplicationBuilder AddNetworkModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<NetworkDbContext, SqliteNetworkDbContext, PostgresNetworkDbContext>(Name);
        return builder;
    }

    /// <summary>No routes yet: a module without a feature exposes nothing but its health (its database in <c>/health/ready</c>).</summary>
    public static WebApplication MapNetworkModule(this WebApplication app) => app;
}
