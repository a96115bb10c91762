using System.Globalization;
using CloudPortal.Identity;
using CloudPortal.Identity.Bootstrap;
using CloudPortal.Identity.Data;
using CloudPortal.Scheduler;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging.DeadLetters;
using CloudPortal.ServiceDefaults.Modules;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.Host.Commands;

/// <summary>Operator tasks. They work on the module databases directly, like nova-manage, and start no bus.</summary>
internal static class AdminCommands
{
    /// <summary>Applies pending migrations of the named modules (all modules when none are named).</summary>
    public static async Task MigrateAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, TextWriter output, CancellationToken cancellationToken)
    {
        await using var app = await BuildAsync(settings, modules, cancellationToken);
        var applied = await app.Services.MigrateModuleDatabasesAsync(cancellationToken);
        foreach (var migration in applied)
            await output.WriteLineAsync($"applied {migration}");
        var databases = app.Services.GetServices<ModuleDatabase>().Count();
        await output.WriteLineAsync($"{databases} module database(s) up to date ({applied.Count} migration(s) applied)");
    }

    /// <summary>
    /// Lists every route a role maps (all-in-one when <paramref name="modules"/> is every module with the agent, else
    /// <c>serve &lt;modules&gt;</c>) and the OpenAPI document describing each. The application is composed exactly as
    /// the server composes it, then disposed without starting: no database, bus or port is touched.
    /// </summary>
    public static async Task RoutesAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, bool withAgent, bool json, TextWriter output)
    {
        settings.Overrides.TryAdd("Logging:LogLevel:Default", "Warning");
        var builder = ModuleHost.CreateBuilder(settings, modules, withAgent);
        await using var app = ModuleHost.Compose(builder, modules, withAgent);
        var report = RouteTable.Read(app);
        await output.WriteAsync(json ? RouteTable.ToJson(report) + Environment.NewLine : RouteTable.ToText(report));
    }

    /// <summary>
    /// Creates the cloud admin (user <c>admin</c>, project <c>admin</c>) with a random password, shown once and
    /// saved to a file only its owner can read. Does nothing if a cloud admin exists.
    /// </summary>
    public static async Task BootstrapAsync(HostSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        await using var app = await BuildAsync(settings, Modules.Named([IdentityModule.Name]), cancellationToken);
        await app.Services.MigrateModuleDatabasesAsync(cancellationToken);
        var seeder = app.Services.GetRequiredService<IdentitySeeder>();
        await seeder.SeedAsync(cancellationToken);
        var result = await seeder.EnsureCloudAdminAsync(cancellationToken);
        if (result.Password is null)
        {
            await output.WriteLineAsync("a cloud admin already exists; nothing to do");
            return;
        }
        await output.WriteLineAsync($"created the cloud admin '{result.AdminUserName}' (project '{IdentitySeeder.AdminProjectName}')");
        await output.WriteLineAsync($"password: {result.Password}");
        await output.WriteLineAsync($"it is shown once and saved to {result.PasswordFile} (mode 0600); the service client secret is in {result.ServiceSecretFile}");
    }

    /// <summary>Prints the compute nodes the Scheduler knows: state, capacity, usage and last heartbeat (and every allocation when asked).</summary>
    public static Task HostsAsync(HostSettings settings, TextWriter output, bool allocations, CancellationToken cancellationToken) =>
        WithSchedulerAsync(settings, async (db, scheduler) =>
        {
            var now = DateTime.UtcNow;
            var hosts = await HostList.ListAsync(db, now, scheduler.NodeDownAfter, cancellationToken);
            if (hosts.Count == 0)
            {
                await output.WriteLineAsync("no compute nodes have reported yet");
                return;
            }
            var rows = hosts.Select(h => new[]
            {
                h.Host,
                h.Up ? "up" : "down",
                h.Enabled ? "enabled" : "disabled",
                h.AvailabilityZone,
                h.Simulated ? $"{h.HypervisorType} (simulated)" : $"{h.HypervisorType} {h.HypervisorVersion}".TrimEnd(),
                h.VCpus.ToString(CultureInfo.InvariantCulture),
                h.MemoryMb.ToString(CultureInfo.InvariantCulture),
                h.DiskGb.ToString(CultureInfo.InvariantCulture),
                // used/capacity, capacity = (total - reserved) x allocation ratio
                FormattableString.Invariant($"{h.VCpu.Used}/{h.VCpu.Capacity}"),
                FormattableString.Invariant($"{h.Memory.Used}/{h.Memory.Capacity}"),
                FormattableString.Invariant($"{h.Disk.Used}/{h.Disk.Capacity}"),
                h.InstanceCount.ToString(CultureInfo.InvariantCulture),
                FormattableString.Invariant($"{h.VCpu.AllocationRatio}/{h.Memory.AllocationRatio}/{h.Disk.AllocationRatio}"),
                FormattableString.Invariant($"{h.VCpu.Reserved}/{h.Memory.Reserved}/{h.Disk.Reserved}"),
                h.CapacitySource,
                h.LastHeartbeatAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                $"{(int)(now - h.LastHeartbeatAt).TotalSeconds}s ago",
                h.DisabledReason ?? "",
            }).ToList();
            await output.WriteAsync(Table.Format(["HOST", "STATE", "STATUS", "ZONE", "HYPERVISOR", "VCPUS", "RAM_MB", "DISK_GB", "VCPUS_USED", "RAM_MB_USED", "DISK_GB_USED",
                "INSTANCES", "RATIOS_CPU/RAM/DISK", "RESERVED_CPU/RAM/DISK", "SOURCE", "LAST_HEARTBEAT", "AGE", "DISABLED_REASON"], rows));
            if (!allocations)
                return;
            var held = await HostList.AllocationsAsync(db, cancellationToken: cancellationToken);
            await output.WriteLineAsync();
            await output.WriteAsync(held.Count == 0 ? $"no allocations{Environment.NewLine}" : Table.Format(["CONSUMER", "PROJECT", "HOST", "VCPUS", "RAM_MB", "DISK_GB", "SINCE"],
                held.Select(a => new[]
                {
                    a.ConsumerId.ToString(), a.ProjectId.ToString(), a.Host, a.Resources.VCpus.ToString(CultureInfo.InvariantCulture),
                    a.Resources.MemoryMb.ToString(CultureInfo.InvariantCulture), a.Resources.DiskGb.ToString(CultureInfo.InvariantCulture),
                    a.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                }).ToList()));
        }, cancellationToken);

    /// <summary>
    /// Wraps every Data Protection key in Identity's database with the current key-encryption key (ADR 0013): keys of
    /// a retired KEK after a rotation, and keys stored in plaintext before the KEK existed.
    /// </summary>
    public static async Task RewrapKeysAsync(HostSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        await using var app = await BuildAsync(settings, Modules.Named([IdentityModule.Name]), cancellationToken);
        await using var scope = app.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<KeyRingRewrap>().RunAsync(cancellationToken);
        await output.WriteLineAsync($"{result.Rewrapped} of {result.Keys} key(s) wrapped with the current key-encryption key ({result.WerePlaintext} were stored unencrypted)");
    }

    /// <summary>Writes a new key-encryption key (a self-signed certificate, PKCS#12, mode 0600) for a rotation or a distributed install.</summary>
    public static async Task NewKeyEncryptionKeyAsync(string path, TextWriter output)
    {
        if (File.Exists(path))
            throw new StartupException($"'{path}' exists; give a new file name");
        using var certificate = KeyRingProtection.Create(path);
        await output.WriteLineAsync($"wrote {path} (thumbprint {certificate.Thumbprint}); keep a copy apart from the database backups");
    }

    /// <summary>Stops placing new instances on a host (those already there keep running).</summary>
    public static Task HostDisableAsync(HostSettings settings, string host, string reason, TextWriter output, CancellationToken cancellationToken) =>
        ChangeHostAsync(settings, output, db => HostAdministration.DisableAsync(db, host, reason, cancellationToken), cancellationToken);

    public static Task HostEnableAsync(HostSettings settings, string host, TextWriter output, CancellationToken cancellationToken) =>
        ChangeHostAsync(settings, output, db => HostAdministration.EnableAsync(db, host, cancellationToken), cancellationToken);

    /// <summary>Sets a host's allocation ratios (the ones given; the others stay).</summary>
    public static Task HostSetRatioAsync(HostSettings settings, string host, double? cpu, double? ram, double? disk, TextWriter output, CancellationToken cancellationToken) =>
        cpu is null && ram is null && disk is null
            ? throw new StartupException("give at least one of --cpu, --ram, --disk")
            : ChangeHostAsync(settings, output, db => HostAdministration.SetAllocationRatiosAsync(db, host, cpu, ram, disk, cancellationToken), cancellationToken);

    private static Task ChangeHostAsync(HostSettings settings, TextWriter output, Func<SchedulerDbContext, Task<ComputeNode>> change, CancellationToken cancellationToken) =>
        WithSchedulerAsync(settings, async (db, _) =>
        {
            ComputeNode node;
            try
            {
                node = await change(db);
            }
            catch (Exception ex) when (ex is HostNotFoundException or ArgumentException)
            {
                throw new StartupException(ex.Message, ex);
            }
            var status = node.Enabled ? "enabled" : $"disabled ({node.DisabledReason})";
            await output.WriteLineAsync(FormattableString.Invariant(
                $"{node.Host}: {status}, allocation ratios cpu {node.CpuAllocationRatio} ram {node.RamAllocationRatio} disk {node.DiskAllocationRatio}"));
        }, cancellationToken);

    /// <summary>
    /// Lists the dead letters this configuration reaches: the set-aside outbox rows of the modules' databases and, on
    /// RabbitMQ, the broker's error queues. The in-memory bus's live only in the running process (its API lists them).
    /// </summary>
    public static async Task DeadLettersAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, TextWriter output, CancellationToken cancellationToken)
    {
        await using var app = await BuildDeadLettersAsync(settings, modules, cancellationToken);
        var letters = await app.Services.GetRequiredService<DeadLetterInbox>().ListAsync(cancellationToken);
        if (letters.Count == 0)
            await output.WriteLineAsync("no dead letters");
        else
            await output.WriteAsync(Table.Format(["ID", "SOURCE", "TYPE", "MESSAGE_ID", "FAILED_AT", "DESTINATION", "REASON"], letters.Select(d => d.DeadLetter).Select(d => new[]
            {
                d.Id, d.Source, d.MessageType ?? "-", d.MessageId?.ToString() ?? "-", d.FailedAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                d.Destination, d.Reason.ReplaceLineEndings(" "),
            }).ToList()));
        if (!app.Configuration.GetCloudPortalOptions().Bus.UsesRabbitMq)
            await output.WriteLineAsync("(in-memory bus: messages its consumers failed on are held by the running process; see GET /messaging/v1/dead-letters)");
    }

    /// <summary>Replays or discards one dead letter, by the id <c>admin dead-letters</c> lists.</summary>
    public static async Task DeadLetterAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, string id, bool replay, TextWriter output, CancellationToken cancellationToken)
    {
        await using var app = await BuildDeadLettersAsync(settings, modules, cancellationToken);
        var inbox = app.Services.GetRequiredService<DeadLetterInbox>();
        DeadLetterOutcome outcome;
        try
        {
            outcome = replay ? await inbox.ReplayAsync(id, cancellationToken) : await inbox.DiscardAsync(id, cancellationToken);
        }
        catch (Exception ex) when (ex is DeadLetterReplayException or DeadLettersUnavailableException)
        {
            throw new StartupException(ex.Message, ex);
        }
        if (outcome == DeadLetterOutcome.NotFound)
            throw new StartupException($"no dead letter '{id}' (already replayed or discarded?); `cloudportal admin dead-letters` lists them");
        await output.WriteLineAsync(replay ? $"replayed {id}" : $"discarded {id}");
    }

    private static Task<WebApplication> BuildDeadLettersAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, CancellationToken cancellationToken) =>
        BuildAsync(settings, modules, cancellationToken, builder => builder.AddDeadLetters());

    /// <summary>Opens the Scheduler's database as configured, refusing to create or use one that was never migrated.</summary>
    private static async Task WithSchedulerAsync(HostSettings settings, Func<SchedulerDbContext, SchedulerOptions, Task> action, CancellationToken cancellationToken)
    {
        await using var app = await BuildAsync(settings, Modules.Named([SchedulerModule.Name]), cancellationToken);
        var options = app.Configuration.GetCloudPortalOptions();
        // Opening a missing SQLite file would create it: look first.
        if (options.Database.Provider == DatabaseProvider.Sqlite && !File.Exists(ModuleConnections.SqlitePath(options, SchedulerModule.Name)))
            throw new StartupException($"no scheduler database in '{options.FullDataDir}': start CloudPortal with this data directory first (or pass the right --data-dir)");
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
        if (!await db.Database.CanConnectAsync(cancellationToken) || (await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
            throw new StartupException("the scheduler database does not exist or is not migrated: start CloudPortal with this configuration first, or run `cloudportal admin migrate`");
        await action(db, scope.ServiceProvider.GetRequiredService<IOptions<SchedulerOptions>>().Value);
    }

    private static async Task<WebApplication> BuildAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, CancellationToken cancellationToken,
        Action<WebApplicationBuilder>? also = null)
    {
        // Admin output is the table, not the host's logs.
        settings.Overrides.TryAdd("Logging:LogLevel:Default", "Warning");
        settings.Overrides.TryAdd("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Error");
        var builder = CloudPortalApp.CreateBuilder("admin", settings.ConfigFile, settings.Overrides);
        var options = builder.Configuration.GetCloudPortalOptions();
        await Preflight.CheckAsync(options, needsDatabase: true, needsBus: false, cancellationToken);
        foreach (var module in modules)
            module.Add(builder);
        also?.Invoke(builder);
        return builder.Build();
    }
}

internal static class Table
{
    public static string Format(IReadOnlyList<string> headers, IReadOnlyList<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var lines = new[] { headers.ToArray() }.Concat(rows)
            .Select(cells => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }
}
