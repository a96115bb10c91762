namespace CloudPortal.Testing;

/// <summary>
/// The environment of one deployment mode under test: all-in-one (SQLite files in a temporary data
/// directory + the in-memory bus) or distributed (a private set of PostgreSQL databases + a private
/// RabbitMQ virtual host). Everything it created is removed on dispose.
/// </summary>
public sealed class Deployment : IAsyncDisposable
{
    private readonly List<string> _directories = [];

    private Deployment(string name, TestPostgres? postgres, TestRabbitMq? rabbitMq)
    {
        Name = name;
        Postgres = postgres;
        RabbitMq = rabbitMq;
        DataDir = NewDirectory();
    }

    public string Name { get; }

    public TestPostgres? Postgres { get; }

    public TestRabbitMq? RabbitMq { get; }

    public string DataDir { get; }

    public bool IsDistributed => Postgres is not null;

    public static Task<Deployment> CreateAsync(string mode) => mode switch
    {
        "all-in-one" => AllInOneAsync(),
        "distributed" => DistributedAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "all-in-one or distributed"),
    };

    public static Task<Deployment> AllInOneAsync() => Task.FromResult(new Deployment("all-in-one", null, null));

    public static async Task<Deployment> DistributedAsync()
    {
        var postgres = await TestPostgres.CreateAsync();
        var rabbitMq = await TestRabbitMq.CreateAsync();
        return new Deployment("distributed", postgres, rabbitMq);
    }

    /// <summary>Environment variables configuring a cloudportal process for this deployment.</summary>
    public Dictionary<string, string?> Environment(int? rabbitMqPort = null)
    {
        var environment = new Dictionary<string, string?>();
        if (Postgres is not null)
        {
            environment["CloudPortal__Database__Provider"] = "Postgres";
            environment["CloudPortal__Database__Postgres"] = TestPostgres.ServerConnectionString;
            environment["CloudPortal__Database__DatabasePrefix"] = Postgres.Prefix;
        }
        if (RabbitMq is not null)
            environment["CloudPortal__Bus__RabbitMq"] = RabbitMq.Uri(rabbitMqPort);
        return environment;
    }

    /// <summary>A temporary directory removed with the deployment.</summary>
    public string NewDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        _directories.Add(path);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (RabbitMq is not null)
            await RabbitMq.DisposeAsync();
        if (Postgres is not null)
            await Postgres.DisposeAsync();
        foreach (var directory in _directories)
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
