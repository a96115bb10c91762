using System.Globalization;
using CloudPortal.Identity;
using CloudPortal.Identity.Bootstrap;
using CloudPortal.Scheduler;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Hosts;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
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
        await output.WriteLineAsync($"{modules.Count} module database(s) up to date ({applied.Count} migration(s) applied)");
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

    /// <summary>Prints the compute nodes the Scheduler knows, with their last heartbeat.</summary>
    public static async Task HostsAsync(HostSettings settings, TextWriter output, CancellationToken cancellationToken)
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

        var downAfter = scope.ServiceProvider.GetRequiredService<IOptions<SchedulerOptions>>().Value.NodeDownAfter;
        var now = DateTime.UtcNow;
        var hosts = await HostList.ListAsync(db, now, downAfter, cancellationToken);
        if (hosts.Count == 0)
        {
            await output.WriteLineAsync("no compute nodes have reported yet");
            return;
        }
        var rows = hosts.Select(h => new[]
        {
            h.Host,
            h.Up ? "up" : "down",
            h.Simulated ? $"{h.HypervisorType} (simulated)" : $"{h.HypervisorType} {h.HypervisorVersion}".TrimEnd(),
            h.VCpus.ToString(CultureInfo.InvariantCulture),
            h.MemoryMb.ToString(CultureInfo.InvariantCulture),
            h.DiskGb.ToString(CultureInfo.InvariantCulture),
            h.CapacitySource,
            h.LastHeartbeatAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            $"{(int)(now - h.LastHeartbeatAt).TotalSeconds}s ago",
        }).ToList();
        await output.WriteAsync(Table.Format(["HOST", "STATE", "HYPERVISOR", "VCPUS", "RAM_MB", "DISK_GB", "SOURCE", "LAST_HEARTBEAT", "AGE"], rows));
    }

    private static async Task<WebApplication> BuildAsync(HostSettings settings, IReadOnlyList<CloudModule> modules, CancellationToken cancellationToken)
    {
        // Admin output is the table, not the host's logs.
        settings.Overrides.TryAdd("Logging:LogLevel:Default", "Warning");
        settings.Overrides.TryAdd("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Error");
        var builder = CloudPortalApp.CreateBuilder("admin", settings.ConfigFile, settings.Overrides);
        var options = builder.Configuration.GetCloudPortalOptions();
        await Preflight.CheckAsync(options, needsDatabase: true, cancellationToken);
        foreach (var module in modules)
            module.Add(builder);
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
