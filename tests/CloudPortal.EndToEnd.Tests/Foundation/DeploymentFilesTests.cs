using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>docker-compose.yml as docker-compose renders it (no engine runs here: the file is checked, not run).</summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string[] Modules = ["identity", "compute", "scheduler", "images", "block-storage", "network", "portal", "ec2-api"];

    [Fact]
    public async Task Compose_file_is_valid_and_runs_every_module_from_one_image()
    {
        var services = (await RenderComposeAsync()).GetProperty("services");

        foreach (var module in Modules)
        {
            var service = services.GetProperty(module);
            Assert.Equal(new[] { "serve", module }, Command(service).Take(2).ToArray());
            Assert.Equal("deploy/Dockerfile", service.GetProperty("build").GetProperty("dockerfile").GetString());
        }
        Assert.Equal("agent", Command(services.GetProperty("agent"))[0]);
    }

    [Fact]
    public async Task Every_module_that_validates_tokens_knows_identitys_address()
    {
        var services = (await RenderComposeAsync()).GetProperty("services");

        foreach (var module in Modules.Where(m => m != "identity"))
            Assert.True(Environment(services.GetProperty(module)).GetValueOrDefault("CloudPortal__Identity__Authority") == "http://identity:8080/",
                $"{module} has no CloudPortal__Identity__Authority pointing at the identity service");
    }

    [Fact]
    public async Task Stateful_services_keep_their_state_in_volumes()
    {
        var services = (await RenderComposeAsync()).GetProperty("services");

        // Identity: signing keys and generated client secrets; Images: the image files; the agent shares its path with libvirtd.
        foreach (var (service, path) in new[]
        {
            ("postgres", "/var/lib/postgresql/data"), ("rabbitmq", "/var/lib/rabbitmq"),
            ("identity", "/var/lib/cloudportal"), ("images", "/var/lib/cloudportal"), ("agent", "/var/lib/cloudportal"),
        })
        {
            // docker-compose 1.29 renders the short syntax: source:target:mode.
            var targets = services.GetProperty(service).TryGetProperty("volumes", out var v)
                ? v.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()!.Split(':')[1] : m.GetProperty("target").GetString()).ToList()
                : [];
            Assert.True(targets.Contains(path), $"{service} has no volume at {path}");
        }
    }

    [Fact]
    public async Task No_secret_is_written_into_the_compose_file()
    {
        var compose = await RenderComposeAsync();
        var services = compose.GetProperty("services");

        foreach (var service in services.EnumerateObject())
        {
            foreach (var (key, value) in Environment(service.Value))
            {
                Assert.False(SecretName().IsMatch(key) && !key.EndsWith("_FILE", StringComparison.Ordinal),
                    $"{service.Name}: {key} puts a secret in the environment; mount it as a compose secret");
                Assert.False(PasswordInValue().IsMatch(value), $"{service.Name}: {key} holds a password inline: {value}");
            }
            foreach (var arg in Command(service.Value))
                Assert.False(PasswordInValue().IsMatch(arg), $"{service.Name}'s command holds a password: {arg}");
        }
        // The secrets come from files the operator creates (deploy/compose-secrets.sh), none of them committed.
        foreach (var secret in compose.GetProperty("secrets").EnumerateObject())
        {
            var file = secret.Value.GetProperty("file").GetString()!;
            Assert.StartsWith(Path.Combine(TestEnvironment.RepositoryRoot, "deploy", "secrets") + "/", file, StringComparison.Ordinal);
        }
        Assert.Contains("deploy/secrets/", await File.ReadAllLinesAsync(Path.Combine(TestEnvironment.RepositoryRoot, ".gitignore")));
        foreach (var module in Modules)
        {
            var mounted = services.GetProperty(module).GetProperty("secrets").EnumerateArray().Select(s => s.GetProperty("target").GetString()).ToList();
            Assert.Contains("CloudPortal__Database__Postgres", mounted);
            Assert.Contains("CloudPortal__Bus__RabbitMq", mounted);
            Assert.Equal("/run/secrets", Environment(services.GetProperty(module)).GetValueOrDefault("CloudPortal__SecretsDir"));
        }
    }

    [Fact]
    public async Task The_agent_runs_as_its_registered_node_and_never_gets_the_control_planes_bus_secret()
    {
        var services = (await RenderComposeAsync()).GetProperty("services");
        var agent = services.GetProperty("agent");
        var node = Command(agent).SkipWhile(a => a != "--host").Skip(1).First();

        Assert.True(!agent.TryGetProperty("secrets", out var secrets) || secrets.GetArrayLength() == 0, $"the agent mounts secrets: {secrets}");
        // Its bus setting is the file node-register writes for its node, in a volume the two share.
        var register = services.GetProperty("node-register");
        Assert.Equal(["admin", "node-register", node], Command(register).Take(3));
        var busFile = Command(register).SkipWhile(a => a != "--bus-file").Skip(1).First();
        var secretsDir = Environment(agent)["CloudPortal__SecretsDir"];
        Assert.Equal(Path.Combine(secretsDir, "CloudPortal__Bus__RabbitMq"), busFile);
        Assert.Contains(Volumes(register), v => v.Target == secretsDir && Volumes(agent).Any(a => a.Source == v.Source && a.Target == secretsDir));
        Assert.Equal("service_completed_successfully", agent.GetProperty("depends_on").GetProperty("node-register").GetProperty("condition").GetString());
    }

    private static List<(string Source, string Target)> Volumes(JsonElement service) =>
        service.GetProperty("volumes").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? (m.GetString()!.Split(':')[0], m.GetString()!.Split(':')[1]) : (m.GetProperty("source").GetString()!, m.GetProperty("target").GetString()!))
            .ToList();

    [Fact]
    public async Task Every_service_would_pass_the_plain_http_check_at_start()
    {
        var services = (await RenderComposeAsync()).GetProperty("services");

        // Admin commands (node-register) listen on nothing.
        foreach (var service in services.EnumerateObject().Where(s => s.Value.TryGetProperty("command", out _) && Command(s.Value)[0] != "admin"))
        {
            var command = Command(service.Value);
            var urls = command.SkipWhile(a => a != "--urls").Skip(1).FirstOrDefault()
                ?? Environment(service.Value).GetValueOrDefault("URLS") ?? "http://0.0.0.0:8080";   // deploy/Dockerfile's URLS
            var exposed = urls.Split(';').Any(u => u.StartsWith("http://", StringComparison.Ordinal) && !u.StartsWith("http://127.0.0.1", StringComparison.Ordinal));
            Assert.False(exposed && !command.Contains("--insecure-http"), $"{service.Name} listens on {urls} without --insecure-http: it would refuse to start");
        }
    }

    private static List<string> Command(JsonElement service) =>
        service.TryGetProperty("command", out var command) ? command.EnumerateArray().Select(a => a.GetString()!).ToList() : [];

    private static Dictionary<string, string> Environment(JsonElement service) =>
        service.TryGetProperty("environment", out var environment)
            ? environment.EnumerateObject().ToDictionary(e => e.Name, e => e.Value.ToString())
            : [];

    /// <summary>
    /// <c>docker-compose config</c>, parsed. docker-compose 1.29 (Debian's) renders YAML only, so PyYAML, which it
    /// depends on, turns it into JSON.
    /// </summary>
    private static async Task<JsonElement> RenderComposeAsync()
    {
        if (!File.Exists("/usr/bin/docker-compose"))
            TestEnvironment.Unavailable("docker-compose", "install the docker-compose package");
        var render = await RunAsync("/bin/sh", "-c",
            "docker-compose -f docker-compose.yml config | /usr/bin/python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'");
        return JsonDocument.Parse(render).RootElement.Clone();
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = TestEnvironment.RepositoryRoot,
        };
        // The operator's own settings must not change what the test reads.
        info.Environment.Remove("COMPOSE_FILE");
        var result = await ChildProcess.RunAsync(info, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"docker-compose config failed: {result.StandardError}");
        return result.StandardOutput;
    }

    /// <summary>A setting named like a secret (<c>..__ClientSecret</c>, <c>POSTGRES_PASSWORD</c>), not one that says where secrets are (<c>SecretsDir</c>).</summary>
    [GeneratedRegex("(password|passwd|secret|_pass|token|key)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    /// <summary>A password in a connection string or URI: <c>Password=...</c>, <c>amqp://user:password@host</c>.</summary>
    [GeneratedRegex(@"password\s*=|://[^/\s:@]+:[^/\s@]+@", RegexOptions.IgnoreCase)]
    private static partial Regex PasswordInValue();
}
