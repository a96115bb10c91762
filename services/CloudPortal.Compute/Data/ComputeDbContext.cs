using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Data;

/// <summary>
/// The Compute module's own database. It will hold instances, flavors, key pairs, server groups, the instance action log and compute quota usage;
/// today it carries the module's outbox and inbox.
/// </summary>
public class ComputeDbContext(DbContextOptions options) : ModuleDbContext(options);

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteComputeDbContext(DbContextOptions<SqliteComputeDbContext> options) : ComputeDbContext(options);

public sealed class PostgresComputeDbContext(DbContextOptions<PostgresComputeDbContext> options) : ComputeDbContext(options);

internal sealed class SqliteComputeDesignTimeFactory : SqliteDesignTimeFactory<SqliteComputeDbContext>;

internal sealed class PostgresComputeDesignTimeFactory : PostgresDesignTimeFactory<PostgresComputeDbContext>;
