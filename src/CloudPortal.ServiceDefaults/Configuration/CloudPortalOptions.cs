namespace CloudPortal.ServiceDefaults.Configuration;

/// <summary>The <c>CloudPortal</c> configuration section, shared by every module and command.</summary>
public sealed class CloudPortalOptions
{
    public const string Section = "CloudPortal";

    /// <summary>Where SQLite databases, keys and image files live. Relative paths are resolved against the working directory.</summary>
    public string DataDir { get; set; } = "./data";

    public DatabaseOptions Database { get; set; } = new();

    public BusOptions Bus { get; set; } = new();

    /// <summary><c>text</c> (one line per event) or <c>json</c> (one JSON object per event, for log shippers).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>
    /// A directory of one file per setting, named like the environment variable (<c>CloudPortal__Bus__RabbitMq</c>),
    /// holding its value: compose or Kubernetes secrets mounted at <c>/run/secrets</c>. Read above the environment.
    /// </summary>
    public string? SecretsDir { get; set; }

    /// <summary>
    /// <c>--insecure-http</c>: serve plain HTTP on addresses other machines reach (inside a private network, behind a
    /// TLS-terminating proxy). Without it such an address is refused at start (<see cref="TransportSecurity"/>).
    /// </summary>
    public bool InsecureHttp { get; set; }

    public string FullDataDir => Path.GetFullPath(DataDir);
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>
    /// Npgsql connection string to the PostgreSQL server, without a database: each module gets its own
    /// database, named <see cref="DatabasePrefix"/> + module (e.g. <c>cloudportal_scheduler</c>).
    /// </summary>
    public string? Postgres { get; set; }

    public string DatabasePrefix { get; set; } = "cloudportal_";
}

public sealed class BusOptions
{
    /// <summary>
    /// RabbitMQ URI (<c>amqp://user:password@host:5672/vhost</c>). Empty means MassTransit's in-memory
    /// transport, which only connects modules hosted in the same process.
    /// </summary>
    public string? RabbitMq { get; set; }

    public bool UsesRabbitMq => !string.IsNullOrWhiteSpace(RabbitMq);

    /// <summary>
    /// RabbitMQ's management API (default: port 15672 of the <see cref="RabbitMq"/> host, always with its user): for
    /// <c>admin node-register</c> (the user must be tagged administrator) and for the dead-letter views, which find the
    /// <c>*_error</c> queues there (the user needs at least the monitoring tag).
    /// </summary>
    public string? RabbitMqManagement { get; set; }
}
