using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Persistence;

public sealed class Stamp
{
    public int Id { get; set; }

    public DateTime At { get; set; }

    public DateTime? Until { get; set; }
}

/// <summary>A module context as the modules derive theirs, on a real SQLite file.</summary>
public sealed class StampsDbContext(DbContextOptions<StampsDbContext> options) : ModuleDbContext(options)
{
    public DbSet<Stamp> Stamps => Set<Stamp>();
}

/// <summary>The same table without the module base's conventions: what SQLite gives back on its own.</summary>
public sealed class PlainStampsDbContext(DbContextOptions<PlainStampsDbContext> options) : DbContext(options)
{
    public DbSet<Stamp> Stamps => Set<Stamp>();
}

public sealed class UtcDateTimesTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"cloudportal-utc-{Guid.NewGuid():N}.db");

    private static readonly DateTime Noon = new(2026, 12, 1, 12, 0, 0, 123, DateTimeKind.Utc);

    [Fact]
    public async Task Sqlite_reads_back_every_date_time_as_utc_through_a_module_context()
    {
        await using (var db = Module())
        {
            await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
            db.Stamps.Add(new Stamp { Id = 1, At = Noon, Until = Noon.AddHours(1) });
            db.Stamps.Add(new Stamp { Id = 2, At = Noon.AddDays(1), Until = null });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        await using (var db = Module())
        {
            var stamp = await db.Stamps.AsNoTracking().SingleAsync(s => s.Id == 1, TestContext.Current.CancellationToken);
            Assert.Equal(DateTimeKind.Utc, stamp.At.Kind);
            Assert.Equal(Noon, stamp.At);
            Assert.Equal(DateTimeKind.Utc, stamp.Until!.Value.Kind);
            Assert.Equal(Noon.AddHours(1), stamp.Until);
            Assert.Null((await db.Stamps.AsNoTracking().SingleAsync(s => s.Id == 2, TestContext.Current.CancellationToken)).Until);
            // Comparisons and projections in SQL see the same values.
            var after = Noon.AddMinutes(1);
            Assert.Equal([2], await db.Stamps.Where(s => s.At > after).Select(s => s.Id).ToListAsync(TestContext.Current.CancellationToken));
            var projected = await db.Stamps.Where(s => s.Id == 1).Select(s => s.At).SingleAsync(TestContext.Current.CancellationToken);
            Assert.Equal(DateTimeKind.Utc, projected.Kind);
            Assert.EndsWith("Z", System.Text.Json.JsonSerializer.Serialize(projected).Trim('"'), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_the_convention_sqlite_answers_unspecified_times()
    {
        await using (var db = Plain())
        {
            await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
            db.Stamps.Add(new Stamp { Id = 1, At = Noon });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        await using (var db = Plain())
            Assert.Equal(DateTimeKind.Unspecified, (await db.Stamps.AsNoTracking().SingleAsync(TestContext.Current.CancellationToken)).At.Kind);
    }

    [Fact]
    public void The_converter_writes_utc_whatever_kind_it_is_given_and_reads_utc()
    {
        var converter = new UtcDateTimeValueConverter();
        var local = Noon.ToLocalTime();
        Assert.Equal(Noon, (DateTime)converter.ConvertToProvider(local)!);
        Assert.Equal(DateTimeKind.Utc, ((DateTime)converter.ConvertToProvider(DateTime.SpecifyKind(Noon, DateTimeKind.Unspecified))!).Kind);
        var read = (DateTime)converter.ConvertFromProvider(DateTime.SpecifyKind(Noon, DateTimeKind.Unspecified))!;
        Assert.Equal((DateTimeKind.Utc, Noon.Ticks), (read.Kind, read.Ticks));
    }

    [Fact]
    public void Postgres_models_keep_their_own_mapping()
    {
        // timestamp with time zone reads UTC already and refuses to write other kinds: nothing to convert there.
        var options = new DbContextOptionsBuilder<StampsDbContext>().UseNpgsql("Host=127.0.0.1;Database=unused").Options;
        using var db = new StampsDbContext(options);
        Assert.Null(db.Model.FindEntityType(typeof(Stamp))!.FindProperty(nameof(Stamp.At))!.GetValueConverter());
        using var sqlite = Module();
        Assert.IsType<UtcDateTimeValueConverter>(sqlite.Model.FindEntityType(typeof(Stamp))!.FindProperty(nameof(Stamp.Until))!.GetValueConverter());
    }

    private StampsDbContext Module() => new(new DbContextOptionsBuilder<StampsDbContext>().UseSqlite($"Data Source={_file};Pooling=False").Options);

    private PlainStampsDbContext Plain() => new(new DbContextOptionsBuilder<PlainStampsDbContext>().UseSqlite($"Data Source={_file};Pooling=False").Options);

    public void Dispose() => File.Delete(_file);
}
