using CloudPortal.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Persistence;

/// <summary>
/// A module database with an outbox and an inbox, so a business change, the messages it causes and the
/// record of the message that caused it commit together. Implemented by <see cref="ModuleDbContext"/>, or
/// directly by a context that must derive from another base (ASP.NET Core Identity's).
/// </summary>
public interface IModuleDbContext
{
    DbSet<OutboxMessage> Outbox { get; }

    DbSet<InboxMessage> Inbox { get; }
}

/// <summary>Base of most module DbContexts.</summary>
public abstract class ModuleDbContext(DbContextOptions options) : DbContext(options), IModuleDbContext
{
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.MapOutboxAndInbox();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) => configurationBuilder.StoreDateTimesAsUtc(this);
}

public static class OutboxModel
{
    public static ModelBuilder MapOutboxAndInbox(this ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable("outbox_messages");
            outbox.HasKey(m => m.Sequence);
            outbox.Property(m => m.Sequence).ValueGeneratedOnAdd();
            outbox.HasIndex(m => m.MessageId).IsUnique();
            outbox.HasIndex(m => new { m.SentAt, m.FailedAt });
            outbox.Property(m => m.MessageType).HasMaxLength(512);
            outbox.Property(m => m.Destination).HasMaxLength(512);
            outbox.Property(m => m.LastError).HasMaxLength(2048);
        });
        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox_messages");
            inbox.HasKey(m => new { m.MessageId, m.Consumer });
            inbox.Property(m => m.Consumer).HasMaxLength(256);
            inbox.HasIndex(m => m.ReceivedAt);
        });
        return modelBuilder;
    }
}
