using Xunit;

namespace CloudPortal.Testing;

/// <summary>
/// Where the real services are, and what happens when one is missing: under <c>CI=true</c> a failure
/// naming what to install; elsewhere a skip that says why.
/// </summary>
public static class TestEnvironment
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>PostgreSQL server connection string (no database).</summary>
    public static string Postgres => Env("CLOUDPORTAL_TEST_POSTGRES", "Host=127.0.0.1;Username=cloudportal;Password=cloudportal");

    public static string RabbitMqHost => Env("CLOUDPORTAL_TEST_RABBITMQ_HOST", "127.0.0.1");

    public static int RabbitMqPort => int.Parse(Env("CLOUDPORTAL_TEST_RABBITMQ_PORT", "5672"), System.Globalization.CultureInfo.InvariantCulture);

    public static string RabbitMqUser => Env("CLOUDPORTAL_TEST_RABBITMQ_USER", "cloudportal");

    public static string RabbitMqPassword => Env("CLOUDPORTAL_TEST_RABBITMQ_PASSWORD", "cloudportal");

    /// <summary>The management API, used to give each test its own virtual host.</summary>
    public static Uri RabbitMqManagement => new(Env("CLOUDPORTAL_TEST_RABBITMQ_API", "http://127.0.0.1:15672/"));

    public const string ServicesHint = "run deploy/dev/start-services.sh (as root) or ./test.sh, which install and start PostgreSQL, RabbitMQ and libvirtd";

    /// <summary>Fails under CI, skips (with the reason) elsewhere.</summary>
    public static void Unavailable(string what, string reason)
    {
        var message = $"{what} is not available ({reason}); {ServicesHint}";
        if (IsCi)
            throw new InvalidOperationException(message);
        Assert.Skip(message);
    }

    /// <summary>The directory holding CloudPortal.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CloudPortal.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"CloudPortal.sln not found above {AppContext.BaseDirectory}");
    }

    private static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
