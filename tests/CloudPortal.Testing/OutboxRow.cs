using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CloudPortal.Testing;

/// <summary>A module's outbox table, written and read as the relay sees it (quoted names work in SQLite and PostgreSQL).</summary>
public static class OutboxRow
{
    public sealed record State(int Attempts, DateTime? FailedAt);

    /// <summary>Adds a row to relay, as <c>db.Outbox.Publish</c> would; returns its message id and sequence.</summary>
    public static async Task<(Guid MessageId, long Sequence)> InsertAsync(TestCloud cloud, string module, string type, string body)
    {
        var messageId = Guid.NewGuid();
        await using var connection = Open(cloud, module);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            insert into outbox_messages ("MessageId", "MessageType", "Body", "CreatedAt", "Attempts") values (@id, @type, @body, @now, 0) returning "Sequence"
            """;
        var sqlite = connection is SqliteConnection;
        // EF Core stores a Guid as upper-case text and a DateTime as ISO text in SQLite.
        Add(command, "id", sqlite ? messageId.ToString().ToUpperInvariant() : messageId);
        Add(command, "type", type);
        Add(command, "body", body);
        Add(command, "now", sqlite ? DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) : DateTime.UtcNow);
        var sequence = Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        return (messageId, sequence);
    }

    public static async Task<State?> ReadAsync(TestCloud cloud, string module, long sequence)
    {
        await using var connection = Open(cloud, module);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """select "Attempts", "FailedAt" from outbox_messages where "Sequence" = @sequence""";
        Add(command, "sequence", sequence);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            return null;
        return new State(reader.GetInt32(0), reader.IsDBNull(1) ? null : Convert.ToDateTime(reader.GetValue(1), CultureInfo.InvariantCulture));
    }

    private static DbConnection Open(TestCloud cloud, string module) => cloud.Deployment.Postgres is { } postgres
        ? new NpgsqlConnection(postgres.ConnectionString(module))
        : new SqliteConnection($"Data Source={Path.Combine(cloud.Deployment.DataDir, $"{module}.db")};Pooling=False;Default Timeout=30");

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
