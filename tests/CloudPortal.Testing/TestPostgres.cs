using Npgsql;

namespace CloudPortal.Testing;

/// <summary>
/// A private set of PostgreSQL databases for one test: every module database it creates is named with
/// <see cref="Prefix"/>, and all of them are dropped on dispose.
/// </summary>
public sealed class TestPostgres : IAsyncDisposable
{
    private TestPostgres(string prefix) => Prefix = prefix;

    /// <summary>Value for <c>CloudPortal:Database:DatabasePrefix</c>.</summary>
    public string Prefix { get; }

    public static string ServerConnectionString => TestEnvironment.Postgres;

    public static async Task<TestPostgres> CreateAsync()
    {
        try
        {
            await using var connection = await OpenAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            TestEnvironment.Unavailable("PostgreSQL", ex.Message);
        }
        return new TestPostgres($"t{Guid.NewGuid():N}"[..13] + "_");
    }

    /// <summary>The connection string of one module database (as the module computes it).</summary>
    public string ConnectionString(string module) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = Prefix + module.Replace('-', '_') }.ToString();

    public async ValueTask DisposeAsync()
    {
        await using var connection = await OpenAsync();
        var names = new List<string>();
        await using (var list = new NpgsqlCommand("select datname from pg_database where starts_with(datname, $1)", connection) { Parameters = { new() { Value = Prefix } } })
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                names.Add(reader.GetString(0));
        }
        foreach (var name in names)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await using var drop = new NpgsqlCommand($"drop database if exists \"{name}\" with (force)", connection);
                    await drop.ExecuteNonQueryAsync();
                    break;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20)
                {
                    // An autovacuum worker is in the fresh database: FORCE may not end it (our role is no superuser),
                    // but it finishes soon.
                    await Task.Delay(500);
                }
            }
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync()
    {
        // 30 s: a loaded machine (several test projects at once) is slow to accept.
        var builder = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres) { Database = "postgres", Timeout = 30, Pooling = false };
        var connection = new NpgsqlConnection(builder.ToString());
        await connection.OpenAsync();
        return connection;
    }
}
