using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Data;

/// <summary>
/// The Identity module's own database. It will hold users, projects, role assignments, OIDC clients, EC2 access keys, quota limits and the audit log;
/// today it carries the module's outbox and inbox.
/// </summary>
public class IdentityModuleDbContext(DbContextOptions options) : ModuleDbContext(options);

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteIdentityModuleDbContext(DbContextOptions<SqliteIdentityModuleDbContext> options) : IdentityModuleDbContext(options);

public sealed class PostgresIdentityModuleDbContext(DbContextOptions<PostgresIdentityModuleDbContext> options) : IdentityModuleDbContext(options);

internal sealed class SqliteIdentityModuleDesignTimeFactory : SqliteDesignTimeFactory<SqliteIdentityModuleDbContext>;

internal sealed class PostgresIdentityModuleDesignTimeFactory : PostgresDesignTimeFactory<PostgresIdentityModuleDbContext>;
