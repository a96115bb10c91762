using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Jobs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>The lease that keeps a resumed job and a late original from working on one image at once.</summary>
public sealed class JobLeaseTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");

    [Fact]
    public async Task One_job_at_a_time_holds_an_image_and_only_its_holder_renews_or_gives_it_back()
    {
        Directory.CreateDirectory(_dir);
        var options = new DbContextOptionsBuilder<SqliteImagesDbContext>().UseSqlite($"Data Source={Path.Combine(_dir, "images.db")}").Options;
        await using var db = new SqliteImagesDbContext(options);
        await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        var image = new Image { Id = Guid.NewGuid(), OwnerProjectId = Guid.NewGuid(), Name = "leased", Status = ImageStatus.Saving };
        db.Images.Add(image);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        var t0 = new DateTime(2026, 11, 26, 12, 0, 0, DateTimeKind.Utc);
        var lease = TimeSpan.FromMinutes(5);
        async Task<DateTime?> Until() => await db.Images.Where(i => i.Id == image.Id).Select(i => i.JobLeaseUntil).SingleAsync();

        var first = await JobLease.TryTakeAsync(db, image.Id, t0, lease, CancellationToken.None);
        Assert.NotNull(first);
        Assert.Null(await JobLease.TryTakeAsync(db, image.Id, t0.AddMinutes(1), lease, CancellationToken.None));   // a duplicate leaves

        await JobLease.RenewAsync(db, image.Id, Guid.NewGuid(), t0.AddMinutes(2), lease, CancellationToken.None);     // not the holder
        Assert.Equal(t0 + lease, await Until());
        await JobLease.RenewAsync(db, image.Id, first.Value, t0.AddMinutes(2), lease, CancellationToken.None);
        Assert.Equal(t0.AddMinutes(2) + lease, await Until());

        // The holder died: once its lease ran out, another job takes the image, and the late holder cannot give it away.
        var second = await JobLease.TryTakeAsync(db, image.Id, t0.AddMinutes(8), lease, CancellationToken.None);
        Assert.NotNull(second);
        await JobLease.ReleaseAsync(db, image.Id, first.Value, t0.AddMinutes(9));
        Assert.Equal(t0.AddMinutes(8) + lease, await Until());
        await JobLease.ReleaseAsync(db, image.Id, second.Value, t0.AddMinutes(9));
        Assert.Null(await Until());
        Assert.NotNull(await JobLease.TryTakeAsync(db, image.Id, t0.AddMinutes(9), lease, CancellationToken.None));

        // Only saving images can be leased.
        await db.Images.Where(i => i.Id == image.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.Active).SetProperty(i => i.JobLeaseUntil, (DateTime?)null));
        Assert.Null(await JobLease.TryTakeAsync(db, image.Id, t0.AddMinutes(20), lease, CancellationToken.None));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }
}
