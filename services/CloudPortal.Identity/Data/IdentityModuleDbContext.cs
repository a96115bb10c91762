using CloudPortal.Identity.AccessKeys;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Projects;
using CloudPortal.Identity.Quotas;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Data;

/// <summary>
/// The Identity module's database: ASP.NET Core Identity's user tables, OpenIddict's applications,
/// authorizations and tokens, Data Protection keys (shared by every replica), and CloudPortal's
/// projects, role assignments, quota limits, EC2 access keys and audit log. It derives from Identity's
/// context, so it implements the outbox/inbox contract directly.
/// </summary>
public class IdentityModuleDbContext(DbContextOptions options) : IdentityUserContext<CloudUser, Guid>(options), IModuleDbContext, IDataProtectionKeyContext
{
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Project> Projects => Set<Project>();

    public DbSet<RoleAssignment> RoleAssignments => Set<RoleAssignment>();

    public DbSet<QuotaDefault> QuotaDefaults => Set<QuotaDefault>();

    public DbSet<QuotaOverride> QuotaOverrides => Set<QuotaOverride>();

    public DbSet<QuotaUsage> QuotaUsage => Set<QuotaUsage>();

    public DbSet<Ec2AccessKey> AccessKeys => Set<Ec2AccessKey>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.StoreDateTimesAsUtc(this);

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
        builder.MapOutboxAndInbox();

        builder.Entity<CloudUser>(user =>
        {
            user.Property(u => u.DisplayName).HasMaxLength(256);
        });
        builder.Entity<Project>(project =>
        {
            project.ToTable("projects");
            project.HasKey(p => p.Id);
            project.Property(p => p.Name).HasMaxLength(64);
            project.Property(p => p.Description).HasMaxLength(1024);
            project.HasIndex(p => p.Name).IsUnique();
        });
        builder.Entity<RoleAssignment>(assignment =>
        {
            assignment.ToTable("role_assignments");
            assignment.HasKey(a => new { a.ProjectId, a.UserId });
            assignment.HasIndex(a => a.UserId);
            assignment.Property(a => a.Role).HasConversion<string>().HasMaxLength(16);
            assignment.HasOne<Project>().WithMany().HasForeignKey(a => a.ProjectId).OnDelete(DeleteBehavior.Cascade);
            assignment.HasOne<CloudUser>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<QuotaDefault>(limit =>
        {
            limit.ToTable("quota_defaults");
            limit.HasKey(l => l.Resource);
            limit.Property(l => l.Resource).HasMaxLength(64);
        });
        builder.Entity<QuotaOverride>(limit =>
        {
            limit.ToTable("quota_overrides");
            limit.HasKey(l => new { l.ProjectId, l.Resource });
            limit.Property(l => l.Resource).HasMaxLength(64);
            limit.HasOne<Project>().WithMany().HasForeignKey(l => l.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<QuotaUsage>(usage =>
        {
            usage.ToTable("quota_usage");
            usage.HasKey(u => new { u.ProjectId, u.Resource });
            usage.Property(u => u.Resource).HasMaxLength(64);
            usage.Property(u => u.Owner).HasMaxLength(64);
            // Owners may report before Identity hears of a project's deletion, so no foreign key; the view reads
            // usage only for projects that exist.
        });
        builder.Entity<Ec2AccessKey>(key =>
        {
            key.ToTable("ec2_access_keys");
            key.HasKey(k => k.AccessKeyId);
            key.Property(k => k.AccessKeyId).HasMaxLength(32);
            key.Property(k => k.ProtectedSecret).HasMaxLength(1024);
            key.HasIndex(k => new { k.UserId, k.ProjectId });
            key.HasOne<Project>().WithMany().HasForeignKey(k => k.ProjectId).OnDelete(DeleteBehavior.Cascade);
            key.HasOne<CloudUser>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<AuditEvent>(audit =>
        {
            audit.ToTable("audit_events");
            audit.HasKey(a => a.Id);
            audit.Property(a => a.Action).HasMaxLength(64);
            audit.Property(a => a.ActorName).HasMaxLength(256);
            audit.Property(a => a.Target).HasMaxLength(256);
            audit.Property(a => a.RemoteAddress).HasMaxLength(64);
            audit.Property(a => a.Detail).HasMaxLength(2048);
            audit.HasIndex(a => a.At);
            audit.HasIndex(a => a.ProjectId);
        });
    }
}

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteIdentityModuleDbContext(DbContextOptions<SqliteIdentityModuleDbContext> options) : IdentityModuleDbContext(options);

public sealed class PostgresIdentityModuleDbContext(DbContextOptions<PostgresIdentityModuleDbContext> options) : IdentityModuleDbContext(options);

internal sealed class SqliteIdentityModuleDesignTimeFactory : SqliteDesignTimeFactory<SqliteIdentityModuleDbContext>;

internal sealed class PostgresIdentityModuleDesignTimeFactory : PostgresDesignTimeFactory<PostgresIdentityModuleDbContext>;
