using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Network.Data;

/// <summary>
/// The Network module's own database. It will hold networks, subnets, ports, security groups, floating IPs and IP allocations;
/// today it carries the module's outbox and inbox.
/// </summary>
public class NetworkDbContext(DbContextOptions options) : ModuleDbContext(options);

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteNetworkDbContext(DbContextOptions<SqliteNetworkDbContext> options) : NetworkDbContext(options);

public sealed class PostgresNetworkDbContext(DbContextOptions<PostgresNetworkDbContext> options) : NetworkDbContext(options);

internal sealed class SqliteNetworkDesignTimeFactory : SqliteDesignTimeFactory<SqliteNetworkDbContext>;

internal sealed class PostgresNetworkDesignTimeFactory : PostgresDesignTimeFactory<PostgresNetworkDbContext>;
