using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>An operator's mistake ends with one clear line on stderr and exit code 2 — never a stack trace.</summary>
public sealed class BadConfigurationTests
{
    public static TheoryData<string, string[], Dictionary<string, string?>, string> Mistakes()
    {
        var closedPort = FreePort.Next();
        var dataDir = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");
        var aFile = Path.GetTempFileName();
        // A compose secret: one file per setting, named like its environment variable, read above the environment.
        var secrets = Directory.CreateTempSubdirectory("cp-secrets-").FullName;
        File.WriteAllText(Path.Combine(secrets, "CloudPortal__Bus__RabbitMq"), $"amqp://cloudportal:from-a-file@127.0.0.1:{closedPort}/\n");
        return new()
        {
            {
                "RabbitMQ address from a secrets file", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__SecretsDir"] = secrets, ["CloudPortal__Bus__RabbitMq"] = "amqp://cloudportal:from-env@127.0.0.1:1/" },
                $"cannot reach RabbitMQ at amqp://cloudportal:***@127.0.0.1:{closedPort}/"
            },
            {
                "missing secrets directory", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__SecretsDir"] = "/nonexistent/secrets" },
                "secrets directory '/nonexistent/secrets' does not exist"
            },
            {
                "unreachable PostgreSQL", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__Database__Provider"] = "Postgres", ["CloudPortal__Database__Postgres"] = $"Host=127.0.0.1;Port={closedPort};Username=cloudportal;Password=x" },
                $"cannot reach PostgreSQL at 127.0.0.1:{closedPort}"
            },
            {
                "PostgreSQL without a connection string", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__Database__Provider"] = "Postgres" },
                "CloudPortal:Database:Postgres (the server's connection string) is empty"
            },
            {
                "unknown database provider", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__Database__Provider"] = "Oracle" },
                "invalid configuration in section 'CloudPortal'"
            },
            {
                "unreachable RabbitMQ", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__Bus__RabbitMq"] = $"amqp://cloudportal:cloudportal@127.0.0.1:{closedPort}/" },
                $"cannot reach RabbitMQ at amqp://cloudportal:***@127.0.0.1:{closedPort}/"
            },
            {
                "RabbitMQ address that is not a URI", ["serve", "scheduler", "--data-dir", dataDir],
                new() { ["CloudPortal__Bus__RabbitMq"] = "localhost:5672" },
                "CloudPortal:Bus:RabbitMq must be an amqp:// URI"
            },
            {
                "unwritable data directory", ["all-in-one", "--data-dir", Path.Combine(aFile, "data")],
                new(),
                $"data directory '{Path.Combine(aFile, "data")}' is not writable"
            },
            {
                "unknown module", ["serve", "scheduler", "nonsense", "--data-dir", dataDir],
                new(),
                "unknown module 'nonsense'; known modules: identity, compute, scheduler, images, block-storage, network, portal, ec2-api"
            },
            {
                "serve without a module", ["serve", "--data-dir", dataDir],
                new(),
                "name at least one module to serve"
            },
            {
                "agent without RabbitMQ", ["agent", "--host", "node-1", "--data-dir", dataDir],
                new(),
                "the agent reaches the Scheduler over RabbitMQ"
            },
            {
                "missing configuration file", ["all-in-one", "--config", "/nonexistent/cloudportal.json", "--data-dir", dataDir],
                new(),
                "configuration file '/nonexistent/cloudportal.json' does not exist"
            },
        };
    }

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task Bad_configuration_ends_with_one_clear_line_and_a_nonzero_exit(string mistake, string[] args, Dictionary<string, string?> environment, string expected)
    {
        var result = await CloudPortalProcess.RunAsync([.. args, "--urls", $"http://127.0.0.1:{FreePort.Next()}"], environment, TimeSpan.FromSeconds(60));

        Assert.True(result.ExitCode == 2, $"{mistake}: expected exit 2, got {result.ExitCode}:\n{result.Output}");
        var errorLines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(errorLines.Length == 1, $"{mistake}: expected one line on stderr:\n{result.StandardError}");
        Assert.StartsWith("cloudportal: error: ", errorLines[0], StringComparison.Ordinal);
        Assert.Contains(expected, errorLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_RabbitMQ_credentials_are_reported_without_the_password()
    {
        await using var rabbitMq = await TestRabbitMq.CreateAsync();
        var uri = $"amqp://cloudportal:wrong-secret@{TestEnvironment.RabbitMqHost}:{TestEnvironment.RabbitMqPort}/{rabbitMq.VirtualHost}";

        var result = await CloudPortalProcess.RunAsync(["serve", "scheduler", "--data-dir", Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}")],
            new Dictionary<string, string?> { ["CloudPortal__Bus__RabbitMq"] = uri });

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cannot reach RabbitMQ", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_already_in_use_is_reported_as_such()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var result = await CloudPortalProcess.RunAsync(["serve", "scheduler", "--urls", $"http://127.0.0.1:{port}", "--data-dir", deployment.DataDir], deployment.Environment());

            Assert.Equal(2, result.ExitCode);
            Assert.Contains($"cannot listen on http://127.0.0.1:{port}", result.StandardError, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            listener.Stop();
        }
    }
}
