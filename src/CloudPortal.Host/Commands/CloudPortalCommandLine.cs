using System.CommandLine;
using CloudPortal.ComputeAgent;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Modules;

namespace CloudPortal.Host.Commands;

/// <summary>
/// <c>cloudportal all-in-one | serve &lt;module...&gt; | agent | admin &lt;verb&gt;</c>. Options only set
/// configuration keys, so everything here can also come from appsettings.json or the environment.
/// </summary>
internal static class CloudPortalCommandLine
{
    private static readonly Option<string?> Urls = new("--urls") { Description = "Addresses to listen on, e.g. http://127.0.0.1:8080", Recursive = true };
    private static readonly Option<string?> DataDir = new("--data-dir") { Description = "Data directory (SQLite files, keys, images); default ./data", Recursive = true };
    private static readonly Option<bool> InsecureHttp = new("--insecure-http")
    {
        Description = "Serve plain HTTP on addresses other machines reach (a private network, or TLS ended by a proxy in front); without it only loopback addresses may be http://",
        Recursive = true,
    };
    private static readonly Option<string?> ConfigFile = new("--config") { Description = "A JSON configuration file, applied above appsettings.json and below the environment", Recursive = true };

    public static RootCommand Create(Func<Func<CancellationToken, Task>, CancellationToken, Task<int>> run)
    {
        var allInOne = new Command("all-in-one", "Every module and a local compute agent in one process (SQLite and the in-memory bus unless configured otherwise)");
        allInOne.SetAction((result, ct) =>
        {
            var settings = Settings(result);
            // One command gives a usable cloud: the first start creates the cloud admin.
            settings.Overrides.TryAdd("CloudPortal:Identity:BootstrapOnStart", "true");
            // Without libvirt, one box still gives a working (clearly simulated) cloud.
            settings.Overrides.TryAdd("CloudPortal:Agent:SimulatedFallback", "true");
            return run(token => ModuleHost.RunAsync(settings, Modules.All, withAgent: true, token), ct);
        });

        var modules = new Argument<string[]>("modules") { Description = $"Modules to host: {string.Join(", ", Modules.All.Select(m => m.Name))}", Arity = ArgumentArity.ZeroOrMore };
        var serve = new Command("serve", "Host the named modules only (one or more per process in a distributed install)") { modules };
        serve.SetAction((result, ct) => run(token => ModuleHost.RunAsync(Settings(result), Modules.Named(result.GetValue(modules) ?? []), withAgent: false, token), ct));

        var host = new Option<string?>("--host") { Description = "This compute node's name in the cloud (default: the machine name)" };
        var libvirt = new Option<string?>("--libvirt") { Description = "libvirt URI (default qemu:///system)" };
        var agent = new Command("agent", "The compute agent for this node: runs next to libvirtd, reaches the Scheduler over RabbitMQ") { host, libvirt };
        agent.SetAction((result, ct) =>
        {
            var settings = Settings(result);
            Set(settings, $"{AgentOptions.Section}:Host", result.GetValue(host));
            Set(settings, $"{AgentOptions.Section}:Libvirt", result.GetValue(libvirt));
            return run(token => ModuleHost.RunAsync(settings, [], withAgent: true, token), ct);
        });

        var migrateModules = new Argument<string[]>("modules") { Description = "Modules to migrate (default: all)", Arity = ArgumentArity.ZeroOrMore };
        var migrate = new Command("migrate", "Create or upgrade the module databases") { migrateModules };
        migrate.SetAction((result, ct) => run(token =>
        {
            var names = result.GetValue(migrateModules) is { Length: > 0 } n ? n : Modules.All.Select(m => m.Name).ToArray();
            return AdminCommands.MigrateAsync(Settings(result), Modules.Named(names), Console.Out, token);
        }, ct));

        var withAllocations = new Option<bool>("--allocations") { Description = "Also list every allocation (instance claims) by host" };
        var hosts = new Command("hosts", "List the compute nodes the Scheduler knows: state, capacity, usage, last heartbeat") { withAllocations };
        hosts.SetAction((result, ct) => run(token => AdminCommands.HostsAsync(Settings(result), Console.Out, result.GetValue(withAllocations), token), ct));

        var hostName = new Argument<string>("host") { Description = "The compute node, as `admin hosts` lists it" };
        var reason = new Option<string>("--reason") { Description = "Why (shown to admins in `admin hosts`)", Required = true };
        var hostDisable = new Command("host-disable", "Place no new instances on a host (running ones stay)") { hostName, reason };
        hostDisable.SetAction((result, ct) => run(token => AdminCommands.HostDisableAsync(Settings(result), result.GetValue(hostName)!, result.GetValue(reason)!, Console.Out, token), ct));
        var hostEnable = new Command("host-enable", "Place new instances on a host again") { hostName };
        hostEnable.SetAction((result, ct) => run(token => AdminCommands.HostEnableAsync(Settings(result), result.GetValue(hostName)!, Console.Out, token), ct));
        Option<double?> cpuRatio = new("--cpu") { Description = "vCPUs per physical CPU (default 4.0)" }, ramRatio = new("--ram") { Description = "RAM overcommit (default 1.0)" },
            diskRatio = new("--disk") { Description = "disk overcommit (default 1.0)" };
        var hostSetRatio = new Command("host-set-ratio", "Set a host's allocation ratios: capacity = (total - reserved) x ratio") { hostName, cpuRatio, ramRatio, diskRatio };
        hostSetRatio.SetAction((result, ct) => run(token => AdminCommands.HostSetRatioAsync(Settings(result), result.GetValue(hostName)!,
            result.GetValue(cpuRatio), result.GetValue(ramRatio), result.GetValue(diskRatio), Console.Out, token), ct));

        var routeModules = new Argument<string[]>("modules") { Description = "The modules of a `serve` process (default: all-in-one, every module and the agent)", Arity = ArgumentArity.ZeroOrMore };
        var routesJson = new Option<bool>("--json") { Description = "JSON for scripts and tests, instead of a table" };
        var routes = new Command("routes", "List every HTTP route the process would map and the OpenAPI document that describes it (builds the app, starts nothing)") { routeModules, routesJson };
        routes.SetAction((result, ct) => run(_ =>
        {
            var names = result.GetValue(routeModules) ?? [];
            return names.Length == 0
                ? AdminCommands.RoutesAsync(Settings(result), Modules.All, withAgent: true, result.GetValue(routesJson), Console.Out)
                : AdminCommands.RoutesAsync(Settings(result), Modules.Named(names), withAgent: false, result.GetValue(routesJson), Console.Out);
        }, ct));

        var bootstrap = new Command("bootstrap", "Create the cloud admin with a random password (shown once, saved to <data-dir>/admin-password)");
        bootstrap.SetAction((result, ct) => run(token => AdminCommands.BootstrapAsync(Settings(result), Console.Out, token), ct));

        var rewrapKeys = new Command("rewrap-keys", "Encrypt every Data Protection key in Identity's database with the current key-encryption key (after a rotation or an upgrade)");
        rewrapKeys.SetAction((result, ct) => run(token => AdminCommands.RewrapKeysAsync(Settings(result), Console.Out, token), ct));
        var kekFile = new Argument<string>("file") { Description = "Where to write the PKCS#12 file (it must not exist)" };
        var newKek = new Command("new-key-encryption-key", "Write a new key-encryption key for Identity's key ring (a self-signed certificate, mode 0600)") { kekFile };
        newKek.SetAction((result, ct) => run(_ => AdminCommands.NewKeyEncryptionKeyAsync(result.GetValue(kekFile)!, Console.Out), ct));

        var nodeName = new Argument<string>("host") { Description = "The compute node's name, as its agent's --host gives it" };
        var rotate = new Option<bool>("--rotate") { Description = "The node is registered already: give it a new password (the old one stops working)" };
        var busFile = new Option<string?>("--bus-file") { Description = "Write the node's bus URI to this file (mode 0600, e.g. a volume its agent mounts as a secret) instead of printing it" };
        var nodeRegister = new Command("node-register", "Give a compute node its own RabbitMQ user, allowed its own queue and its reports only; prints the node's bus setting once") { nodeName, rotate, busFile };
        nodeRegister.SetAction((result, ct) => run(token => NodeCommands.RegisterAsync(Settings(result), result.GetValue(nodeName)!, result.GetValue(rotate), result.GetValue(busFile), Console.Out, token), ct));
        var nodeUnregister = new Command("node-unregister", "Delete a compute node's RabbitMQ user: the node is cut off at once") { nodeName };
        nodeUnregister.SetAction((result, ct) => run(token => NodeCommands.UnregisterAsync(Settings(result), result.GetValue(nodeName)!, Console.Out, token), ct));

        var deadLetterModules = new Option<string[]>("--module") { Description = "Only these modules' outboxes (default: every module's database this configuration names)", AllowMultipleArgumentsPerToken = true, Recursive = true };
        var deadLetterId = new Argument<string>("id") { Description = "The dead letter, as `admin dead-letters` lists it" };
        var deadLetters = new Command("dead-letters", "List messages that could not be delivered: outbox rows set aside and RabbitMQ's *_error queues") { deadLetterModules };
        deadLetters.SetAction((result, ct) => run(token => AdminCommands.DeadLettersAsync(Settings(result), ModulesOrAll(result.GetValue(deadLetterModules)), Console.Out, token), ct));
        var replay = new Command("replay", "Send a dead letter again: the outbox relay retries the row, or the message goes back to the queue it failed in") { deadLetterId };
        replay.SetAction((result, ct) => run(token => AdminCommands.DeadLetterAsync(Settings(result), ModulesOrAll(result.GetValue(deadLetterModules)), result.GetValue(deadLetterId)!,
            replay: true, Console.Out, token), ct));
        var discard = new Command("discard", "Delete a dead letter for good") { deadLetterId };
        discard.SetAction((result, ct) => run(token => AdminCommands.DeadLetterAsync(Settings(result), ModulesOrAll(result.GetValue(deadLetterModules)), result.GetValue(deadLetterId)!,
            replay: false, Console.Out, token), ct));
        deadLetters.Subcommands.Add(replay);
        deadLetters.Subcommands.Add(discard);

        var admin = new Command("admin", "Operator tasks") { bootstrap, migrate, hosts, hostDisable, hostEnable, hostSetRatio, nodeRegister, nodeUnregister, routes, rewrapKeys, newKek, deadLetters };

        return new RootCommand("CloudPortal: a self-service private cloud on libvirt/KVM")
        {
            Options = { Urls, DataDir, ConfigFile, InsecureHttp },
            Subcommands = { allInOne, serve, agent, admin },
        };
    }

    private static IReadOnlyList<CloudModule> ModulesOrAll(string[]? names) => names is { Length: > 0 } ? Modules.Named(names) : Modules.All;

    private static HostSettings Settings(ParseResult result)
    {
        var settings = new HostSettings(result.GetValue(ConfigFile), []);
        Set(settings, "urls", result.GetValue(Urls));
        Set(settings, "CloudPortal:DataDir", result.GetValue(DataDir));
        if (result.GetValue(InsecureHttp))
            settings.Overrides[TransportSecurity.InsecureHttpKey] = "true";
        return settings;
    }

    private static void Set(HostSettings settings, string key, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
            settings.Overrides[key] = value;
    }
}
