using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CloudPortal.ServiceDefaults.Persistence;

public static class ModuleMigrator
{
    /// <summary>Applies pending migrations of every registered module database (creating PostgreSQL databases as needed).</summary>
    public static async Task<IReadOnlyList<string>> MigrateModuleDatabasesAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var applied = new List<string>();
        var provider = services.GetRequiredService<IConfiguration>().GetCloudPortalOptions().Database.Provider;
        foreach (var database in services.GetServices<ModuleDatabase>())
        {
            await using var scope = services.CreateAsyncScope();
            var db = (DbContext)scope.ServiceProvider.GetRequiredService(database.ContextType);
            try
            {
                if (provider == DatabaseProvider.Postgres)
                    await EnsurePostgresDatabaseAsync(db.Database.GetConnectionString()!, cancellationToken).ConfigureAwait(false);
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken).ConfigureAwait(false)).ToList();
                await db.Database.MigrateAsync(cancellationToken).ConfigureAwait(false);
                if (provider == DatabaseProvider.Sqlite)
                {
                    // WAL lets readers (admin commands, health checks) run while a module writes.
                    await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
                }
                applied.AddRange(pending.Select(m => $"{database.Module}: {m}"));
            }
            catch (Exception ex) when (ex is NpgsqlException or SqliteException or InvalidOperationException)
            {
                throw new StartupException($"cannot migrate the {database.Module} database ({provider}): {Describe(ex)}", ex);
            }
        }
        return applied;
    }

    /// <summary>
    /// Creates the module's database if missing. EF's Migrate would too, but only after logging a failed
    /// connection as an error on every first start.
    /// </summary>
    private static async Task EnsurePostgresDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var server = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(server.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = $1", connection) { Parameters = { new() { Value = target.Database } } };
        if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            return;
        try
        {
            var name = new NpgsqlCommandBuilder().QuoteIdentifier(target.Database!);
            await using var create = new NpgsqlCommand($"create database {name}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another replica of the module created it first.
        }
    }

    private static string Describe(Exception ex) =>
        ex.InnerException is { } inner && ex is InvalidOperationException ? $"{ex.Message} {inner.Message}" : ex.Message;
}
