using CloudPortal.Compute.Consoles;
using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.KeyPairs;
using CloudPortal.Compute.PowerSync;
using CloudPortal.Compute.ServerGroups;
using CloudPortal.Compute.Usage;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Data;

/// <summary>
/// The Compute module's own database: flavors, key pairs, server groups, instances with their tags and action log,
/// launch client tokens, usage segments, console tickets, stray domains seen on nodes, cached quota limits, and the
/// module's outbox and inbox.
/// </summary>
public class ComputeDbContext(DbContextOptions options) : ModuleDbContext(options), IQuotaLimitStore
{
    public DbSet<Flavor> Flavors => Set<Flavor>();

    public DbSet<FlavorAccess> FlavorAccess => Set<FlavorAccess>();

    public DbSet<KeyPair> KeyPairs => Set<KeyPair>();

    public DbSet<ServerGroup> ServerGroups => Set<ServerGroup>();

    public DbSet<Instance> Instances => Set<Instance>();

    public DbSet<InstanceTag> InstanceTags => Set<InstanceTag>();

    public DbSet<InstanceActionRecord> InstanceActions => Set<InstanceActionRecord>();

    public DbSet<LaunchRequest> LaunchRequests => Set<LaunchRequest>();

    public DbSet<UsageSegment> UsageSegments => Set<UsageSegment>();

    public DbSet<ConsoleToken> ConsoleTokens => Set<ConsoleToken>();

    public DbSet<StrayDomain> StrayDomains => Set<StrayDomain>();

    public DbSet<CachedQuotaLimit> QuotaLimits => Set<CachedQuotaLimit>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.MapQuotaLimits();
        modelBuilder.Entity<Flavor>(flavor =>
        {
            flavor.ToTable("flavors");
            flavor.HasKey(f => f.Sequence);
            flavor.Property(f => f.Sequence).ValueGeneratedOnAdd();
            flavor.HasAlternateKey(f => f.Id);
            flavor.Property(f => f.Name).HasMaxLength(255);
            flavor.HasIndex(f => f.Name).IsUnique().HasFilter("\"DeletedAt\" IS NULL");
            flavor.Property(f => f.Description).HasMaxLength(1024);
            flavor.Property(f => f.ExtraSpecs).HasJsonConversion().HasMaxLength(65536);
        });
        modelBuilder.Entity<FlavorAccess>(access =>
        {
            access.ToTable("flavor_access");
            access.HasKey(a => new { a.FlavorId, a.ProjectId });
            access.HasIndex(a => a.ProjectId);
            access.HasOne<Flavor>().WithMany().HasForeignKey(a => a.FlavorId).HasPrincipalKey(f => f.Id).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<KeyPair>(key =>
        {
            key.ToTable("key_pairs");
            key.HasKey(k => k.Sequence);
            key.Property(k => k.Sequence).ValueGeneratedOnAdd();
            key.HasAlternateKey(k => k.Id);
            key.HasIndex(k => new { k.ProjectId, k.Name }).IsUnique();
            key.Property(k => k.Name).HasMaxLength(255);
            key.Property(k => k.Type).HasConversion<string>().HasMaxLength(16);
            key.Property(k => k.PublicKey).HasMaxLength(16384);
            key.Property(k => k.Fingerprint).HasMaxLength(128);
        });
        modelBuilder.Entity<ServerGroup>(group =>
        {
            group.ToTable("server_groups");
            group.HasKey(g => g.Sequence);
            group.Property(g => g.Sequence).ValueGeneratedOnAdd();
            group.HasAlternateKey(g => g.Id);
            group.HasIndex(g => g.ProjectId);
            group.Property(g => g.Name).HasMaxLength(255);
            group.Property(g => g.Policy).HasMaxLength(32);
        });
        modelBuilder.Entity<Instance>(instance =>
        {
            instance.ToTable("instances");
            instance.HasKey(i => i.Sequence);
            instance.Property(i => i.Sequence).ValueGeneratedOnAdd();
            instance.HasAlternateKey(i => i.Id);
            instance.HasIndex(i => new { i.ProjectId, i.Status });
            instance.HasIndex(i => new { i.Host, i.Status });
            instance.HasIndex(i => new { i.Status, i.Task });
            instance.HasIndex(i => i.ReservationId);
            instance.HasIndex(i => i.ServerGroupId);
            instance.Property(i => i.Name).HasMaxLength(255);
            instance.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
            instance.Property(i => i.Task).HasConversion<string>().HasMaxLength(16);
            instance.Property(i => i.PowerState).HasConversion<string>().HasMaxLength(16);
            instance.Property(i => i.FlavorName).HasMaxLength(255);
            instance.Property(i => i.FlavorExtraSpecs).HasJsonConversion().HasMaxLength(65536);
            instance.Property(i => i.ImageName).HasMaxLength(255);
            instance.Property(i => i.ImageSource).HasJsonConversion().HasMaxLength(4096);
            instance.Property(i => i.ImageProperties).HasJsonConversion().HasMaxLength(65536);
            instance.Property(i => i.KeyName).HasMaxLength(255);
            instance.Property(i => i.PublicKey).HasMaxLength(16384);
            instance.Property(i => i.UserData).HasMaxLength(90000);
            instance.Property(i => i.Metadata).HasJsonConversion().HasMaxLength(65536);
            instance.Property(i => i.RequestedZone).HasMaxLength(255);
            instance.Property(i => i.Host).HasMaxLength(255);
            instance.Property(i => i.FailedAttempts).HasJsonConversion().HasMaxLength(16384);
            instance.Ignore(i => i.FailedHosts);
            instance.Property(i => i.FaultCode).HasMaxLength(64);
            instance.Property(i => i.FaultMessage).HasMaxLength(2048);
            instance.Property(i => i.Version).IsConcurrencyToken();
            instance.Ignore(i => i.HasFault);
        });
        modelBuilder.Entity<InstanceTag>(tag =>
        {
            tag.ToTable("instance_tags");
            tag.HasKey(t => new { t.InstanceId, t.Key });
            tag.Property(t => t.Key).HasMaxLength(128);
            tag.Property(t => t.Value).HasMaxLength(256);
            tag.HasIndex(t => new { t.Key, t.Value });
            tag.HasOne<Instance>().WithMany().HasForeignKey(t => t.InstanceId).HasPrincipalKey(i => i.Id).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<InstanceActionRecord>(action =>
        {
            action.ToTable("instance_actions");
            action.HasKey(a => a.Sequence);
            action.Property(a => a.Sequence).ValueGeneratedOnAdd();
            action.HasAlternateKey(a => a.Id);
            action.HasIndex(a => new { a.InstanceId, a.Sequence });
            action.HasIndex(a => new { a.ProjectId, a.Sequence });
            action.Property(a => a.RequestId).HasMaxLength(128);
            action.Property(a => a.Operation).HasConversion<string>().HasMaxLength(16);
            action.Property(a => a.UserName).HasMaxLength(256);
            action.Property(a => a.Result).HasMaxLength(16);
            action.Property(a => a.FaultCode).HasMaxLength(64);
            action.Property(a => a.FaultMessage).HasMaxLength(2048);
            action.Property(a => a.Detail).HasMaxLength(512);
        });
        modelBuilder.Entity<LaunchRequest>(request =>
        {
            request.ToTable("launch_requests");
            request.HasKey(r => new { r.ProjectId, r.ClientToken });
            request.Property(r => r.ClientToken).HasMaxLength(64);
            request.Property(r => r.BodyHash).HasMaxLength(64);
        });
        modelBuilder.Entity<UsageSegment>(segment =>
        {
            segment.ToTable("usage_segments");
            segment.HasKey(s => s.Id);
            segment.Property(s => s.Id).ValueGeneratedOnAdd();
            segment.HasIndex(s => new { s.ProjectId, s.StartedAt });
            segment.HasIndex(s => new { s.InstanceId, s.EndedAt });
            segment.Property(s => s.FlavorName).HasMaxLength(255);
            segment.Property(s => s.Status).HasMaxLength(16);
        });
        modelBuilder.Entity<ConsoleToken>(token =>
        {
            token.ToTable("console_tokens");
            token.HasKey(t => t.TokenHash);
            token.Property(t => t.TokenHash).HasMaxLength(64);
            token.Property(t => t.Host).HasMaxLength(255);
            token.Property(t => t.Address).HasMaxLength(255);
            token.HasIndex(t => t.ExpiresAt);
        });
        modelBuilder.Entity<StrayDomain>(stray =>
        {
            stray.ToTable("stray_domains");
            stray.HasKey(s => s.Sequence);
            stray.Property(s => s.Sequence).ValueGeneratedOnAdd();
            stray.HasIndex(s => new { s.Host, s.InstanceId }).IsUnique();
            stray.Property(s => s.Host).HasMaxLength(255);
            stray.Property(s => s.Reason).HasMaxLength(512);
        });
    }
}

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteComputeDbContext(DbContextOptions<SqliteComputeDbContext> options) : ComputeDbContext(options);

public sealed class PostgresComputeDbContext(DbContextOptions<PostgresComputeDbContext> options) : ComputeDbContext(options);

internal sealed class SqliteComputeDesignTimeFactory : SqliteDesignTimeFactory<SqliteComputeDbContext>;

internal sealed class PostgresComputeDesignTimeFactory : PostgresDesignTimeFactory<PostgresComputeDbContext>;
