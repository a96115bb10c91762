using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CloudPortal.ServiceDefaults.Persistence;

/// <summary>
/// Every <see cref="DateTime"/> CloudPortal stores is UTC. SQLite keeps them as text without a zone and hands them back
/// with <see cref="DateTimeKind.Unspecified"/>, which <see cref="DateTime.ToUniversalTime"/> and conversions to
/// <see cref="DateTimeOffset"/> take for local time (the JSON converter writes them right, code reading them need not);
/// PostgreSQL's <c>timestamp with time zone</c> already answers UTC. One convention for every module's context marks
/// what SQLite reads as UTC.
/// </summary>
public static class UtcDateTimes
{
    /// <summary>Call from <c>ConfigureConventions</c>; on PostgreSQL it changes nothing (<paramref name="context"/> tells which).</summary>
    public static ModelConfigurationBuilder StoreDateTimesAsUtc(this ModelConfigurationBuilder conventions, DbContext context)
    {
        ArgumentNullException.ThrowIfNull(conventions);
        ArgumentNullException.ThrowIfNull(context);
        // The model is built once per context type, and each provider has its own (SqliteXDbContext, PostgresXDbContext).
        if (context.Database.IsSqlite())
        {
            // Applies to DateTime? as well: EF uses a value type's converter for its nullable form.
            conventions.Properties<DateTime>().HaveConversion<UtcDateTimeValueConverter>();
        }
        return conventions;
    }
}

/// <summary>Writes UTC (a local time converted, an unspecified one taken as UTC) and reads back <see cref="DateTimeKind.Utc"/>.</summary>
public sealed class UtcDateTimeValueConverter() : ValueConverter<DateTime, DateTime>(
    value => value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc),
    value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
