using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Identity;

public static class IdentityModule
{
    public const string Name = "identity";

    public static WebApplicationBuilder AddIdentityModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<IdentityModuleDbContext, SqliteIdentityModuleDbContext, PostgresIdentityModuleDbContext>(Name);
        return builder;
    }

    /// <summary>No routes yet: a module without a feature exposes nothing but its health (its database in <c>/health/ready</c>).</summary>
    public static WebApplication MapIdentityModule(this WebApplication app) => app;
}
