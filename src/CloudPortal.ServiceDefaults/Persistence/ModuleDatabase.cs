using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Outbox;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CloudPortal.ServiceDefaults.Persistence;

/// <summary>A module database known to the host: migrated on start and by <c>cloudportal admin migrate</c>.</summary>
public sealed record ModuleDatabase(string Module, Type ContextType);

public static class ModuleDatabaseRegistration
{
    /// <summary>
    /// Registers a module's database: a SQLite file under the data directory, or a PostgreSQL database
    /// of its own. Each provider has its own migrations, generated against its own context subclass
    /// (<typeparamref name="TSqlite"/>, <typeparamref name="TPostgres"/>); the module code only sees <typeparamref name="TContext"/>.
    /// Also starts the module's outbox relay and adds the database to <c>/health/ready</c>.
    /// </summary>
    public static IHostApplicationBuilder AddModuleDatabase<TContext, TSqlite, TPostgres>(this IHostApplicationBuilder builder, string module)
        where TContext : DbContext, IModuleDbContext
        where TSqlite : TContext
        where TPostgres : TContext
    {
        var options = builder.Configuration.GetCloudPortalOptions();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<OutboxSignal>();
        builder.Services.TryAddSingleton<OutboxSaveChangesInterceptor>();
        builder.Services.AddOptions<OutboxOptions>().BindConfiguration("CloudPortal:Outbox");

        if (options.Database.Provider == DatabaseProvider.Postgres)
        {
            var connectionString = ModuleConnections.Postgres(options, module);
            builder.Services.AddDbContext<TContext, TPostgres>((services, db) => db
                .UseNpgsql(connectionString)
                .AddInterceptors(services.GetRequiredService<OutboxSaveChangesInterceptor>()));
        }
        else
        {
            var connectionString = ModuleConnections.Sqlite(options, module);
            builder.Services.TryAddSingleton<SqliteWriteGate>();
            builder.Services.AddDbContext<TContext, TSqlite>((services, db) => db
                .UseSqlite(connectionString)
                .AddInterceptors(services.GetRequiredService<OutboxSaveChangesInterceptor>(), services.GetRequiredService<SqliteWriteGate>()));
        }

        builder.Services.AddSingleton(new ModuleDatabase(module, typeof(TContext)));
        builder.Services.AddHostedService<OutboxRelay<TContext>>();
        builder.Services.AddHealthChecks().AddDbContextCheck<TContext>($"{module}-database", tags: ["ready"]);
        return builder;
    }
}

public static class ModuleConnections
{
    public static string Sqlite(CloudPortalOptions options, string module) => new SqliteConnectionStringBuilder
    {
        DataSource = SqlitePath(options, module),
        // Writers queue behind each other (SqliteWriteGate) for up to this long instead of failing with SQLITE_BUSY.
        DefaultTimeout = 30,
        Pooling = true,
    }.ToString();

    public static string SqlitePath(CloudPortalOptions options, string module) =>
        Path.Combine(options.FullDataDir, $"{module}.db");

    public static string Postgres(CloudPortalOptions options, string module)
    {
        if (string.IsNullOrWhiteSpace(options.Database.Postgres))
            throw new StartupException("CloudPortal:Database:Provider is Postgres but CloudPortal:Database:Postgres (the server's connection string) is empty");
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.Database.Postgres);
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"CloudPortal:Database:Postgres is not a valid connection string: {ex.Message}", ex);
        }
        builder.Database = DatabaseName(options, module);
        return builder.ToString();
    }

    public static string DatabaseName(CloudPortalOptions options, string module) =>
        options.Database.DatabasePrefix + module.Replace('-', '_');
}
