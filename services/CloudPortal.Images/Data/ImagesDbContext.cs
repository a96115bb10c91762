using System.Text.Json;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Import;
using CloudPortal.Images.Sharing;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace CloudPortal.Images.Data;

/// <summary>
/// The Images module's own database: image records, tags, members (sharing), cached quota limits, the
/// import allow-list, and the module's outbox and inbox. Hangfire's job tables live beside it.
/// </summary>
public class ImagesDbContext(DbContextOptions options) : ModuleDbContext(options), IQuotaLimitStore
{
    public DbSet<Image> Images => Set<Image>();

    public DbSet<ImageTag> ImageTags => Set<ImageTag>();

    public DbSet<ImageMember> ImageMembers => Set<ImageMember>();

    public DbSet<CachedQuotaLimit> QuotaLimits => Set<CachedQuotaLimit>();

    public DbSet<ImportAllowedHost> ImportAllowedHosts => Set<ImportAllowedHost>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<Image>(image =>
        {
            image.ToTable("images");
            image.HasKey(i => i.Sequence);
            image.Property(i => i.Sequence).ValueGeneratedOnAdd();
            image.HasAlternateKey(i => i.Id);
            image.HasIndex(i => new { i.OwnerProjectId, i.Status });
            image.HasIndex(i => new { i.Visibility, i.Status });
            image.Property(i => i.Name).HasMaxLength(255);
            image.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
            image.Property(i => i.Visibility).HasConversion<string>().HasMaxLength(16);
            image.Property(i => i.DiskFormat).HasMaxLength(16);
            image.Property(i => i.ContainerFormat).HasMaxLength(16);
            image.Property(i => i.ComputeFormat).HasMaxLength(16);
            image.Property(i => i.Sha256).HasMaxLength(64);
            image.Property(i => i.Sha512).HasMaxLength(128);
            image.Property(i => i.ComputeSha256).HasMaxLength(64);
            image.Property(i => i.FailureCode).HasMaxLength(64);
            image.Property(i => i.FailureReason).HasMaxLength(2048);
            image.Property(i => i.ImportUrl).HasMaxLength(2048);
            image.Property(i => i.ImportError).HasMaxLength(2048);
            image.Property(i => i.ConversionState).HasMaxLength(16);
            image.Property(i => i.Properties)
                .HasConversion(
                    p => JsonSerializer.Serialize(p, JsonSerializerOptions.Default),
                    s => JsonSerializer.Deserialize<Dictionary<string, string>>(s, JsonSerializerOptions.Default) ?? new Dictionary<string, string>(),
                    new ValueComparer<Dictionary<string, string>>(
                        (a, b) => a!.Count == b!.Count && !a.Except(b).Any(),
                        d => d.Aggregate(0, (h, kv) => HashCode.Combine(h, kv.Key, kv.Value)),
                        d => new Dictionary<string, string>(d)))
                .HasMaxLength(65536);
            image.Ignore(i => i.HoldsData);
        });
        modelBuilder.Entity<ImageTag>(tag =>
        {
            tag.ToTable("image_tags");
            tag.HasKey(t => new { t.ImageId, t.Tag });
            tag.Property(t => t.Tag).HasMaxLength(255);
            tag.HasIndex(t => t.Tag);
            tag.HasOne<Image>().WithMany().HasForeignKey(t => t.ImageId).HasPrincipalKey(i => i.Id).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ImageMember>(member =>
        {
            member.ToTable("image_members");
            member.HasKey(m => new { m.ImageId, m.ProjectId });
            member.HasIndex(m => new { m.ProjectId, m.Status });
            member.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
            member.HasOne<Image>().WithMany().HasForeignKey(m => m.ImageId).HasPrincipalKey(i => i.Id).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.MapQuotaLimits();
        modelBuilder.Entity<ImportAllowedHost>(host =>
        {
            host.ToTable("import_allowed_hosts");
            host.HasKey(h => h.Host);
            host.Property(h => h.Host).HasMaxLength(255);
            host.Property(h => h.AddedBy).HasMaxLength(256);
        });
    }
}

// One subclass per provider, so each provider keeps its own migrations (Migrations/Sqlite, Migrations/Postgres).
public sealed class SqliteImagesDbContext(DbContextOptions<SqliteImagesDbContext> options) : ImagesDbContext(options);

public sealed class PostgresImagesDbContext(DbContextOptions<PostgresImagesDbContext> options) : ImagesDbContext(options);

internal sealed class SqliteImagesDesignTimeFactory : SqliteDesignTimeFactory<SqliteImagesDbContext>;

internal sealed class PostgresImagesDesignTimeFactory : PostgresDesignTimeFactory<PostgresImagesDbContext>;
