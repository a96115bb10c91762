using CloudPortal.Compute.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Compute;

public static class ComputeModule
{
    public const string Name = "compute";

    public static WebApplicationBuilder AddComputeModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<ComputeDbContext, SqliteComputeDbContext, PostgresComputeDbContext>(Name);
        return builder;
    }

    /// <summary>No routes yet: a module without a feature exposes nothing but its health (its database in <c>/health/ready</c>).</summary>
    public static WebApplication MapComputeModule(this WebApplication app) => app;
}
