using System.Text.RegularExpressions;

namespace CloudPortal.Testing;

/// <summary>
/// A running cloud for tests that need Identity: all-in-one (one process, SQLite, in-memory bus), or
/// distributed (identity, scheduler, images, compute and an agent as separate processes on PostgreSQL and RabbitMQ,
/// the other modules validating tokens against the identity process over HTTP). Whatever the cloud's agents left in
/// libvirt (domains, storage pools) is removed on dispose.
/// </summary>
public sealed partial class TestCloud : IAsyncDisposable
{
    private readonly List<CloudPortalProcess> _processes = [];
    private readonly Dictionary<string, string?> _extraEnvironment = [];
    private readonly Dictionary<string, CloudPortalProcess> _agents = [];
    private readonly Dictionary<string, string> _agentDataDirs = [];
    private readonly List<string> _extraNodes = [];
    private readonly Dictionary<string, string> _nodeBusUris = [];
    private CloudPortalProcess? _compute;
    private CloudPortalProcess? _images;

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

    /// <summary>Where the portal answers (all-in-one: the same process as Identity; distributed: after <see cref="StartPortalAsync"/>).</summary>
    public string PortalUrl { get; private set; } = "";

    /// <summary>Where the Compute module answers (all-in-one: the same process as Identity).</summary>
    public string ComputeUrl { get; private set; } = "";

    /// <summary>The compute process (all-in-one: the whole cloud).</summary>
    public CloudPortalProcess ComputeProcess => _compute ?? _processes[0];

    /// <summary>The agents of this cloud, by node name (all-in-one: its local agent is not listed).</summary>
    public IReadOnlyDictionary<string, CloudPortalProcess> Agents => _agents;

    /// <summary>Every node name an agent of this cloud ran under (the default <see cref="Node"/> first).</summary>
    public IReadOnlyList<string> Nodes => [Node, .. _extraNodes];

    public string AdminPassword { get; private set; } = "";

    public string ServiceSecret => File.ReadAllText(Path.Combine(Deployment.DataDir, "service-client-secret")).Trim();

    public CloudPortalProcess IdentityProcess => _processes[0];

    /// <summary>The process hosting the Scheduler (all-in-one: the cloud).</summary>
    public CloudPortalProcess SchedulerProcess => _processes[Deployment.IsDistributed ? 1 : 0];

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
        await _processes[0].WaitUntilReadyAsync(IdentityUrl, CloudPortalProcess.ReadyTimeout);
    }

    /// <summary>
    /// Starts another agent (distributed clouds only: agents reach the Scheduler over RabbitMQ) under a new node name. On
    /// the deployment's own broker the node is registered first (<c>admin node-register</c>) and the agent runs as its
    /// own RabbitMQ user, as an operator installs a node; on another broker (a test's private one) it uses the cloud's.
    /// </summary>
    public async Task<CloudPortalProcess> StartAgentAsync(string node, IReadOnlyDictionary<string, string?>? environment = null)
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("extra agents need RabbitMQ: start a distributed cloud");
        var settings = Environment();
        settings["CloudPortal__Agent__Host"] = node;
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
            settings[key] = value;
        if (settings["CloudPortal__Bus__RabbitMq"] == Deployment.Environment()["CloudPortal__Bus__RabbitMq"])
            settings["CloudPortal__Bus__RabbitMq"] = await NodeBusUriAsync(node);
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        if (!_agentDataDirs.TryGetValue(node, out var dataDir))
            _agentDataDirs[node] = dataDir = Deployment.NewDirectory();
        var agent = CloudPortalProcess.Start(["agent", "--host", node, "--urls", url, "--data-dir", dataDir], settings);
        _agents[node] = agent;
        if (node != Node && !_extraNodes.Contains(node))
            _extraNodes.Add(node);
        await agent.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);
        return agent;
    }

    /// <summary>The node's own bus URI, from <c>admin node-register</c> (run once per node and cloud).</summary>
    public async Task<string> NodeBusUriAsync(string node)
    {
        if (_nodeBusUris.TryGetValue(node, out var known))
            return known;
        var register = await CloudPortalProcess.RunAsync(["admin", "node-register", node, "--data-dir", Deployment.NewDirectory()], Deployment.Environment());
        var uri = NodeBusUri().Match(register.StandardOutput);
        if (register.ExitCode != 0 || !uri.Success)
            throw new InvalidOperationException($"admin node-register {node} failed:\n{register.Output}");
        return _nodeBusUris[node] = uri.Groups[1].Value;
    }

    [GeneratedRegex(@"^CloudPortal__Bus__RabbitMq=(\S+)$", RegexOptions.Multiline)]
    private static partial Regex NodeBusUri();

    /// <summary>Stops a node's agent (SIGTERM); commands for it wait in its queue.</summary>
    public async Task StopAgentAsync(string node)
    {
        var agent = _agents[node];
        await agent.StopAsync();
        await agent.DisposeAsync();
        _processes.Remove(agent);
        _agents.Remove(node);
    }

    /// <summary>Kills the compute process (SIGKILL, as a crash would) and starts it again on the same data.</summary>
    public async Task CrashAndRestartComputeAsync()
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("crash the compute process of a distributed cloud (all-in-one would take every module down)");
        await _compute!.KillAsync();
        await _compute.DisposeAsync();
        _processes.Remove(_compute);
        _compute = StartCompute();
        _processes.Add(_compute);
        await _compute.WaitUntilReadyAsync(ComputeUrl, CloudPortalProcess.ReadyTimeout);
    }

    private CloudPortalProcess StartCompute() =>
        CloudPortalProcess.Start(["serve", "compute", "--urls", ComputeUrl, "--data-dir", Deployment.DataDir], WithAuthority());

    private Dictionary<string, string?> WithAuthority() => new(Environment()) { ["CloudPortal__Identity__Authority"] = IdentityUrl + "/" };

    /// <summary>The process hosting the Images module (all-in-one: the whole cloud).</summary>
    public CloudPortalProcess ImagesProcess => _images ?? _processes[0];

    /// <summary>Stops the images process of a distributed cloud (SIGTERM), keeping its data for <see cref="StartImagesAsync"/>.</summary>
    public async Task StopImagesAsync()
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("all-in-one has no images process of its own");
        await _images!.StopAsync();
    }

    /// <summary>Starts the images process of a distributed cloud again, on the same data, and waits until it is ready.</summary>
    public async Task StartImagesAsync()
    {
        if (!Deployment.IsDistributed)
            throw new InvalidOperationException("all-in-one has no images process of its own");
        await _images!.DisposeAsync();
        _processes.Remove(_images);
        _images = CloudPortalProcess.Start(["serve", "images", "--urls", ImagesUrl, "--data-dir", ImagesDataDir], WithAuthority());
        _processes.Add(_images);
        await _images.WaitUntilReadyAsync(ImagesUrl, CloudPortalProcess.ReadyTimeout);
    }

    /// <summary>
    /// Distributed: starts the portal as a process of its own (<c>serve portal</c>), calling the other processes' APIs
    /// at their addresses. All-in-one hosts the portal already (<see cref="PortalUrl"/> is the cloud's address).
    /// </summary>
    public async Task StartPortalAsync()
    {
        if (Deployment.IsDistributed)
            await StartPortalReplicaAsync(PortalUrl);
    }

    /// <summary>
    /// Distributed: a second portal process at <see cref="SecondPortalUrl"/>, with its own data directory (its own
    /// sessions and keys) and its own subscription to Compute's events, as a replica behind a load balancer would be.
    /// </summary>
    public Task StartSecondPortalAsync() =>
        Deployment.IsDistributed ? StartPortalReplicaAsync(SecondPortalUrl) : throw new InvalidOperationException("all-in-one has one portal");

    /// <summary>Where <see cref="StartSecondPortalAsync"/> starts a second portal (distributed only).</summary>
    public string SecondPortalUrl { get; private set; } = "";

    private async Task StartPortalReplicaAsync(string url)
    {
        var environment = WithAuthority();
        foreach (var (module, api) in new[] { ("identity", IdentityUrl), ("compute", ComputeUrl), ("images", ImagesUrl), ("scheduler", SchedulerUrl) })
            environment[$"CloudPortal__Portal__Apis__{module}"] = api;
        var portal = CloudPortalProcess.Start(["serve", "portal", "--urls", url, "--data-dir", Deployment.NewDirectory()], environment);
        _processes.Add(portal);
        await portal.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);
    }

    private async Task StartAllInOneAsync()
    {
        IdentityUrl = SchedulerUrl = ImagesUrl = ComputeUrl = PortalUrl = $"http://127.0.0.1:{FreePort.Next()}";
        ImagesDataDir = Deployment.DataDir;
        var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir], Environment());
        _processes.Add(cloud);
        await cloud.WaitUntilReadyAsync(IdentityUrl, CloudPortalProcess.ReadyTimeout);
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
        // The portal process is started on demand (StartPortalAsync); Identity knows its callback from the start.
        PortalUrl = $"http://127.0.0.1:{FreePort.Next()}";
        SecondPortalUrl = $"http://127.0.0.1:{FreePort.Next()}";
        environment["CloudPortal__Identity__PortalRedirectUris__0"] = $"{IdentityUrl}/signin-oidc";
        environment["CloudPortal__Identity__PortalRedirectUris__1"] = $"{PortalUrl}/signin-oidc";
        environment["CloudPortal__Identity__PortalRedirectUris__2"] = $"{SecondPortalUrl}/signin-oidc";
        var identity = CloudPortalProcess.Start(["serve", "identity", "--urls", IdentityUrl, "--data-dir", Deployment.DataDir], environment);
        _processes.Add(identity);
        var withAuthority = WithAuthority();
        var scheduler = CloudPortalProcess.Start(["serve", "scheduler", "--urls", SchedulerUrl, "--data-dir", Deployment.NewDirectory()], withAuthority);
        _processes.Add(scheduler);
        ImagesUrl = $"http://127.0.0.1:{FreePort.Next()}";
        ImagesDataDir = Deployment.NewDirectory();
        var images = _images = CloudPortalProcess.Start(["serve", "images", "--urls", ImagesUrl, "--data-dir", ImagesDataDir], withAuthority);
        _processes.Add(images);
        await identity.WaitUntilReadyAsync(IdentityUrl, CloudPortalProcess.ReadyTimeout);
        await scheduler.WaitUntilReadyAsync(SchedulerUrl, CloudPortalProcess.ReadyTimeout);
        await images.WaitUntilReadyAsync(ImagesUrl, CloudPortalProcess.ReadyTimeout);
        // Compute after the Scheduler: its first SelectHosts needs the Scheduler's queue to exist.
        ComputeUrl = $"http://127.0.0.1:{FreePort.Next()}";
        _compute = StartCompute();
        _processes.Add(_compute);
        await _compute.WaitUntilReadyAsync(ComputeUrl, CloudPortalProcess.ReadyTimeout);
        _processes.Add(await StartAgentAsync(Node));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes.Concat(_agents.Values).Distinct())
            await process.DisposeAsync();
        try
        {
            await LibvirtCleanup.RemoveAsync(Nodes);
        }
        finally
        {
            await Deployment.DisposeAsync();
        }
    }

    [GeneratedRegex(@"^password: (\S+)$", RegexOptions.Multiline)]
    private static partial Regex PasswordLine();
}
