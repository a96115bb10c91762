using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.Scheduler.Hosts;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Scheduler.Data;

/// <summary>The Scheduler's own database: compute nodes (resource providers) and, later, their allocations.</summary>
public class SchedulerDbContext(DbContextOptions options) : ModuleDbContext(options)
{
    public DbSet<ComputeNode> ComputeNodes => Set<ComputeNode>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<ComputeNode>(node =>
        {
            node.ToTable("compute_nodes");
            node.HasKey(n => n.Host);
            node.Property(n => n.Host).HasMaxLength(255);
            node.Property(n => n.HypervisorType).HasMaxLength(64);
            node.Property(n => n.HypervisorVersion).HasMaxLength(64);
            node.Property(n => n.CpuModel).HasMaxLength(128);
            node.Property(n => n.CapacitySource).HasMaxLength(16);
        });
    }
}

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteSchedulerDbContext(DbContextOptions<SqliteSchedulerDbContext> options) : SchedulerDbContext(options);

public sealed class PostgresSchedulerDbContext(DbContextOptions<PostgresSchedulerDbContext> options) : SchedulerDbContext(options);

internal sealed class SqliteSchedulerDesignTimeFactory : SqliteDesignTimeFactory<SqliteSchedulerDbContext>;

internal sealed class PostgresSchedulerDesignTimeFactory : PostgresDesignTimeFactory<PostgresSchedulerDbContext>;
