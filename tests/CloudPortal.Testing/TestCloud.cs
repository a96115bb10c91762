using System.Text.RegularExpressions;

namespace CloudPortal.Testing;

/// <summary>
/// A running cloud for tests that need Identity: all-in-one (one process, SQLite, in-memory bus), or
/// distributed (identity, scheduler, images and an agent as separate processes on PostgreSQL and RabbitMQ,
/// the scheduler and images validating tokens against the identity process over HTTP).
/// </summary>
public sealed partial class TestCloud : IAsyncDisposable
{
    private readonly List<CloudPortalProcess> _processes = [];
    private readonly Dictionary<string, string?> _extraEnvironment = [];

    private TestCloud(Deployment deployment, string node)
    {
        Deployment = deployment;
        Node = node;
    }

    public Deployment Deployment { get; }

    public string Node { get; }

    public string IdentityUrl { get; private set; } = "";

    public string SchedulerUrl { get; private set; } = "";

    /// <summary>Where the Images module answers (all-in-one: the same process as Identity).</summary>
    public string ImagesUrl { get; private set; } = "";

    /// <summary>The data directory of the process hosting the Images module (its image files live under <c>images/</c>).</summary>
    public string ImagesDataDir { get; private set; } = "";

    public string AdminPassword { get; private set; } = "";

    public string ServiceSecret => File.ReadAllText(Path.Combine(Deployment.DataDir, "service-client-secret")).Trim();

    public CloudPortalProcess IdentityProcess => _processes[0];

    public IReadOnlyList<CloudPortalProcess> Processes => _processes;

    public OidcClient Oidc => new(IdentityUrl);

    public static Task<TestCloud> StartAsync(string mode) => StartAsync(mode, new Dictionary<string, string?>());

    /// <summary>Starts a cloud whose processes also get <paramref name="environment"/> (e.g. <c>CloudPortal__Images__MaxImageBytes</c>).</summary>
    public static async Task<TestCloud> StartAsync(string mode, IReadOnlyDictionary<string, string?> environment)
    {
        var deployment = await Deployment.CreateAsync(mode);
        var cloud = new TestCloud(deployment, $"node-{Guid.NewGuid():N}"[..13]);
        foreach (var (key, value) in environment)
            cloud._extraEnvironment[key] = value;
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
        foreach (var (key, value) in _extraEnvironment)
            environment[key] = value;
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

    /// <summary>The process hosting the Images module (all-in-one: the whole cloud).</summary>
    public CloudPortalProcess ImagesProcess => Deployment.IsDistributed ? _processes[2] : _processes[0];

    /// <summary>Stops the images process of a distributed cloud (SIGTERM), keeping its data for <see cref="StartImagesAsync"/>.</summary>
    public async Task StopImagesAsync()
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("all-in-one has no images process of its own");
        await _processes[2].StopAsync();
    }

    /// <summary>Starts the images process of a distributed cloud again, on the same data, and waits until it is ready.</summary>
    public async Task StartImagesAsync()
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("all-in-one has no images process of its own");
        await _processes[2].DisposeAsync();
        var withAuthority = new Dictionary<string, string?>(Environment()) { ["CloudPortal__Identity__Authority"] = IdentityUrl + "/" };
        _processes[2] = CloudPortalProcess.Start(["serve", "images", "--urls", ImagesUrl, "--data-dir", ImagesDataDir], withAuthority);
        await _processes[2].WaitUntilReadyAsync(ImagesUrl, TimeSpan.FromSeconds(60));
    }

    private async Task StartAllInOneAsync()
    {
        IdentityUrl = SchedulerUrl = ImagesUrl = $"http://127.0.0.1:{FreePort.Next()}";
        ImagesDataDir = Deployment.DataDir;
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
        ImagesUrl = $"http://127.0.0.1:{FreePort.Next()}";
        ImagesDataDir = Deployment.NewDirectory();
        var images = CloudPortalProcess.Start(["serve", "images", "--urls", ImagesUrl, "--data-dir", ImagesDataDir], withAuthority);
        _processes.Add(images);
        var agentUrl = $"http://127.0.0.1:{FreePort.Next()}";
        await identity.WaitUntilReadyAsync(IdentityUrl, TimeSpan.FromSeconds(60));
        await scheduler.WaitUntilReadyAsync(SchedulerUrl, TimeSpan.FromSeconds(60));
        await images.WaitUntilReadyAsync(ImagesUrl, TimeSpan.FromSeconds(60));
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
