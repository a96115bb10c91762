using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Data;

/// <summary>
/// The Images module's own database. It will hold image records, members, image files, import and conversion jobs, image quota usage;
/// today it carries the module's outbox and inbox.
/// </summary>
public class ImagesDbContext(DbContextOptions options) : ModuleDbContext(options);

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteImagesDbContext(DbContextOptions<SqliteImagesDbContext> options) : ImagesDbContext(options);

public sealed class PostgresImagesDbContext(DbContextOptions<PostgresImagesDbContext> options) : ImagesDbContext(options);

internal sealed class SqliteImagesDesignTimeFactory : SqliteDesignTimeFactory<SqliteImagesDbContext>;

internal sealed class PostgresImagesDesignTimeFactory : PostgresDesignTimeFactory<PostgresImagesDbContext>;
