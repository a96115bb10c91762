using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Hosts;

public sealed class MigrationTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Nodes_that_reported_before_placement_existed_come_out_enabled_with_default_ratios(string provider)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");
        await using var postgres = provider == "postgres" ? await TestPostgres.CreateAsync() : null;
        Directory.CreateDirectory(dir);
        try
        {
            await using (var db = provider == "postgres"
                ? new PostgresSchedulerDbContext(new DbContextOptionsBuilder<PostgresSchedulerDbContext>().UseNpgsql(postgres!.ConnectionString("scheduler")).Options)
                : (SchedulerDbContext)new SqliteSchedulerDbContext(new DbContextOptionsBuilder<SqliteSchedulerDbContext>().UseSqlite($"Data Source={Path.Combine(dir, "scheduler.db")}").Options))
            {
                var initial = db.Database.GetMigrations().First();
                await db.GetService<IMigrator>().MigrateAsync(initial);
                await db.Database.ExecuteSqlRawAsync(
                    """INSERT INTO compute_nodes ("Host", "VCpus", "MemoryMb", "DiskGb", "HypervisorType", "CapacitySource", "Simulated", "FirstSeenAt", "LastHeartbeatAt") """ +
                    """VALUES ('old-node', 8, 16384, 200, 'QEMU', 'libvirt', FALSE, {0}, {0})""", DateTime.UtcNow);
                await db.Database.MigrateAsync();

                var node = await db.ComputeNodes.AsNoTracking().SingleAsync();
                Assert.Equal((true, "nova", 4.0, 1.0, 1.0), (node.Enabled, node.AvailabilityZone, node.CpuAllocationRatio, node.RamAllocationRatio, node.DiskAllocationRatio));
                Assert.Equal((0, 0L, 0, 32), (node.UsedVCpus, node.UsedMemoryMb, node.InstanceCount, (int)node.Inventory(ResourceClass.VCpu).Capacity));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
