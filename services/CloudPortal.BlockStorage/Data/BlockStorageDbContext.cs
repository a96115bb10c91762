using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.BlockStorage.Data;

/// <summary>
/// The BlockStorage module's own database. It will hold volumes, snapshots, attachments and volume quota usage;
/// today it carries the module's outbox and inbox.
/// </summary>
public class BlockStorageDbContext(DbContextOptions options) : ModuleDbContext(options);

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteBlockStorageDbContext(DbContextOptions<SqliteBlockStorageDbContext> options) : BlockStorageDbContext(options);

public sealed class PostgresBlockStorageDbContext(DbContextOptions<PostgresBlockStorageDbContext> options) : BlockStorageDbContext(options);

internal sealed class SqliteBlockStorageDesignTimeFactory : SqliteDesignTimeFactory<SqliteBlockStorageDbContext>;

internal sealed class PostgresBlockStorageDesignTimeFactory : PostgresDesignTimeFactory<PostgresBlockStorageDbContext>;
