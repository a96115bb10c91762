using System.Text.Json;
using CloudPortal.Scheduler.Aggregates;
using CloudPortal.Scheduler.Allocations;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace CloudPortal.Scheduler.Data;

/// <summary>The Scheduler's own database: compute nodes (resource providers), their allocations and aggregates.</summary>
public class SchedulerDbContext(DbContextOptions options) : ModuleDbContext(options)
{
    public DbSet<ComputeNode> ComputeNodes => Set<ComputeNode>();

    public DbSet<Allocation> Allocations => Set<Allocation>();

    public DbSet<Aggregate> Aggregates => Set<Aggregate>();

    public DbSet<AggregateHost> AggregateHosts => Set<AggregateHost>();

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
            node.Property(n => n.AvailabilityZone).HasMaxLength(255);
            node.Property(n => n.DisabledReason).HasMaxLength(255);
            // Every tracked update (reports, admin changes) is checked against the generation it read;
            // claims and releases update it with explicit conditional UPDATEs (ClaimService).
            node.Property(n => n.Generation).IsConcurrencyToken();
            node.HasIndex(n => n.AvailabilityZone);
        });
        modelBuilder.Entity<Allocation>(allocation =>
        {
            allocation.ToTable("allocations");
            // One allocation per consumer: a second claim for the same instance fails on the key, atomically.
            allocation.HasKey(a => a.ConsumerId);
            allocation.Property(a => a.Host).HasMaxLength(255);
            allocation.HasIndex(a => a.Host);
            allocation.HasIndex(a => a.ProjectId);
            allocation.HasIndex(a => a.ServerGroupId);
            allocation.HasOne<ComputeNode>().WithMany().HasForeignKey(a => a.Host).OnDelete(DeleteBehavior.Restrict);
            allocation.Ignore(a => a.Resources);
        });
        modelBuilder.Entity<Aggregate>(aggregate =>
        {
            aggregate.ToTable("aggregates");
            aggregate.HasKey(a => a.Id);
            aggregate.Property(a => a.Name).HasMaxLength(255);
            aggregate.HasIndex(a => a.Name).IsUnique();
            aggregate.Property(a => a.Metadata).HasConversion(
                m => JsonSerializer.Serialize(m, (JsonSerializerOptions?)null),
                json => JsonSerializer.Deserialize<Dictionary<string, string>>(json, (JsonSerializerOptions?)null) ?? new(),
                new ValueComparer<Dictionary<string, string>>(
                    (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                    m => m.Aggregate(0, (hash, pair) => hash ^ HashCode.Combine(pair.Key, pair.Value)),
                    m => new Dictionary<string, string>(m, StringComparer.Ordinal)));
            aggregate.HasMany(a => a.Hosts).WithOne().HasForeignKey(h => h.AggregateId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AggregateHost>(member =>
        {
            member.ToTable("aggregate_hosts");
            member.HasKey(h => new { h.AggregateId, h.Host });
            member.Property(h => h.Host).HasMaxLength(255);
            member.HasIndex(h => h.Host);
        });
    }
}

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteSchedulerDbContext(DbContextOptions<SqliteSchedulerDbContext> options) : SchedulerDbContext(options);

public sealed class PostgresSchedulerDbContext(DbContextOptions<PostgresSchedulerDbContext> options) : SchedulerDbContext(options);

internal sealed class SqliteSchedulerDesignTimeFactory : SqliteDesignTimeFactory<SqliteSchedulerDbContext>;

internal sealed class PostgresSchedulerDesignTimeFactory : PostgresDesignTimeFactory<PostgresSchedulerDbContext>;
