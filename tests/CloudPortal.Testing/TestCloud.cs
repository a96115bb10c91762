using System.Text.RegularExpressions;

namespace CloudPortal.Testing;

/// <summary>
/// A running cloud for tests that need Identity: all-in-one (one process, SQLite, in-memory bus), or
/// distributed (identity, scheduler and an agent as separate processes on PostgreSQL and RabbitMQ, the
/// scheduler validating tokens against the identity process over HTTP).
/// </summary>
public sealed partial class TestCloud : IAsyncDisposable
{
    private readonly List<CloudPortalProcess> _processes = [];

    private TestCloud(Deployment deployment, string node)
    {
        Deployment = deployment;
        Node = node;
    }

    public Deployment Deployment { get; }

    public string Node { get; }

    public string IdentityUrl { get; private set; } = "";

    public string SchedulerUrl { get; private set; } = "";

    public string AdminPassword { get; private set; } = "";

    public string ServiceSecret => File.ReadAllText(Path.Combine(Deployment.DataDir, "service-client-secret")).Trim();

    public CloudPortalProcess IdentityProcess => _processes[0];

    public IReadOnlyList<CloudPortalProcess> Processes => _processes;

    public OidcClient Oidc => new(IdentityUrl);

    public static async Task<TestCloud> StartAsync(string mode)
    {
        var deployment = await Deployment.CreateAsync(mode);
        var cloud = new TestCloud(deployment, $"node-{Guid.NewGuid():N}"[..13]);
        try
        {
            if (deployment.IsDistributed)
                await cloud.StartDistributedAsync();
            else
                await cloud.StartAllInOneAsync();
            return cloud;
        }
        catch
        {
            await cloud.DisposeAsync();
            throw;
        }
    }

    public Dictionary<string, string?> Environment()
    {
        var environment = Deployment.Environment();
        environment["CloudPortal__Agent__Host"] = Node;
        return environment;
    }

    /// <summary>Restarts the identity process (all-in-one: the whole cloud) on the same data.</summary>
    public async Task RestartIdentityAsync()
    {
        var old = _processes[0];
        await old.StopAsync();
        await old.DisposeAsync();
        var args = Deployment.IsDistributed
            ? new[] { "serve", "identity", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir }
            : ["all-in-one", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir];
        _processes[0] = CloudPortalProcess.Start(args, Environment());
        await _processes[0].WaitUntilReadyAsync(IdentityUrl, TimeSpan.FromSeconds(60));
    }

    private async Task StartAllInOneAsync()
    {
        IdentityUrl = SchedulerUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir], Environment());
        _processes.Add(cloud);
        await cloud.WaitUntilReadyAsync(IdentityUrl, TimeSpan.FromSeconds(60));
        AdminPassword = (await File.ReadAllTextAsync(Path.Combine(Deployment.DataDir, "admin-password"))).Trim();
    }

    private async Task StartDistributedAsync()
    {
        var environment = Environment();
        var bootstrap = await CloudPortalProcess.RunAsync(["admin", "bootstrap", "--data-dir", Deployment.DataDir], environment);
        if (bootstrap.ExitCode != 0)
            throw new InvalidOperationException($"admin bootstrap failed:\n{bootstrap.Output}");
        AdminPassword = PasswordLine().Match(bootstrap.StandardOutput).Groups[1].Value;

        IdentityUrl = $"http://127.0.0.1:{FreePort.Next()}";
        SchedulerUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var identity = CloudPortalProcess.Start(["serve", "identity", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir], environment);
        _processes.Add(identity);
        var withAuthority = new Dictionary<string, string?>(environment) { ["CloudPortal__Identity__Authority"] = IdentityUrl + "/" };
        var scheduler = CloudPortalProcess.Start(["serve", "scheduler", "--urls", SchedulerUrl, "--data-dir", Deployment.NewDirectory()], withAuthority);
        _processes.Add(scheduler);
        var agentUrl = $"http://127.0.0.1:{FreePort.Next()}";
        await identity.WaitUntilReadyAsync(IdentityUrl, TimeSpan.FromSeconds(60));
        await scheduler.WaitUntilReadyAsync(SchedulerUrl, TimeSpan.FromSeconds(60));
        var agent = CloudPortalProcess.Start(["agent", "--host", Node, "--urls", agentUrl, "--data-dir", Deployment.NewDirectory()], environment);
        _processes.Add(agent);
        await agent.WaitUntilReadyAsync(agentUrl, TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
            await process.DisposeAsync();
        await Deployment.DisposeAsync();
    }

    [GeneratedRegex(@"^password: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex PasswordLine();
}
