using CloudPortal.BlockStorage.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;

namespace CloudPortal.BlockStorage;

public static class BlockStorageModule
{
    public const string Name = "block-storage";

    public static WebApplicationBuilder AddBlockStorageModule(this WebApplicationBuilder builder)
    {
        builder.AddModuleDatabase<BlockStorageDbContext, SqliteBlockStorageDbContext, PostgresBlockStorageDbContext>(Name);
        return builder;
    }

    /// <summary>No routes yet: a module without a feature exposes nothing but its health (its database in <c>/health/ready</c>).</summary>
    public static WebApplication MapBlockStorageModule(this WebApplication app) => app;
}
