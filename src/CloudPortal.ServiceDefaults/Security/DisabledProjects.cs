using System.Collections.Concurrent;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Modules;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Security;

/// <summary>
/// The projects an admin disabled, as this process last heard from Identity. Access tokens are JWTs checked by
/// signature alone and carry their holder's project roles for up to their lifetime (15 minutes by default); a
/// disabled project's roles in them count for nothing here (<see cref="Caller.RoleIn"/>), so its members lose it at
/// once, exactly as a token issued after the change would have them. Fed by <see cref="ProjectStatusChanged"/> events
/// and by a snapshot at start and every <see cref="ResyncInterval"/> (<see cref="DisabledProjectsResync"/>), for a
/// process that starts after the change or whose per-process queue lost events with its broker connection.
/// </summary>
public sealed class DisabledProjects
{
    public static readonly TimeSpan ResyncInterval = TimeSpan.FromMinutes(5);

    // Per project: disabled or not, and the Identity time of what said so. A later word wins, whichever way it came.
    private readonly ConcurrentDictionary<Guid, (bool Disabled, DateTimeOffset At)> _status = new();
    private readonly Lock _snapshot = new();

    public bool IsDisabled(Guid projectId) => _status.TryGetValue(projectId, out var status) && status.Disabled;

    public void Apply(ProjectStatusChanged change)
    {
        ArgumentNullException.ThrowIfNull(change);
        _status.AddOrUpdate(change.ProjectId, (!change.Enabled, change.ChangedAt),
            (_, known) => change.ChangedAt >= known.At ? (!change.Enabled, change.ChangedAt) : known);
    }

    /// <summary>The snapshot wins over everything stamped before it; returns how many projects changed status.</summary>
    public int Apply(DisabledProjectsSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var disabled = snapshot.ProjectIds.ToHashSet();
        var changed = 0;
        lock (_snapshot)
        {
            foreach (var project in disabled.Union(_status.Keys))
            {
                var was = IsDisabled(project);
                var now = disabled.Contains(project);
                _status.AddOrUpdate(project, (now, snapshot.ReadAt), (_, known) => snapshot.ReadAt >= known.At ? (now, snapshot.ReadAt) : known);
                if (IsDisabled(project) != was)
                    changed++;
            }
        }
        return changed;
    }
}

/// <summary>Each process serving project resources has its own queue for these (a per-process consumer): every one must stop honouring the project.</summary>
public sealed class ProjectStatusChangedConsumer(DisabledProjects projects) : IConsumer<ProjectStatusChanged>
{
    public Task Consume(ConsumeContext<ProjectStatusChanged> context)
    {
        projects.Apply(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Asks Identity which projects are disabled (<see cref="GetDisabledProjects"/>) once the host has started and every
/// <see cref="DisabledProjects.ResyncInterval"/>; until Identity answers it retries, 1 s doubling to 1 min.
/// </summary>
internal sealed partial class DisabledProjectsResync(IBus bus, DisabledProjects projects, IHostApplicationLifetime lifetime, TimeProvider time,
    ILogger<DisabledProjectsResync> log) : BackgroundService
{
    private static readonly RequestTimeout RequestTimeout = RequestTimeout.After(s: 30);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Resync.RunAsync(lifetime, time, async cancellationToken =>
        {
            var client = bus.CreateRequestClient<GetDisabledProjects>(RequestTimeout);
            var response = await client.GetResponse<DisabledProjectsSnapshot>(new GetDisabledProjects(), cancellationToken).ConfigureAwait(false);
            if (projects.Apply(response.Message) is > 0 and var changed)
                LogResynced(log, changed);
        },
        () => DisabledProjects.ResyncInterval,
        (ex, seconds) => LogResyncFailed(log, seconds, ex),
        stoppingToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Disabled projects resynced from Identity: {Changed} projects changed status")]
    private static partial void LogResynced(ILogger logger, int changed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not learn the disabled projects from Identity; retrying in {Seconds}s (until then, tokens issued before a project was disabled keep its roles here)")]
    private static partial void LogResyncFailed(ILogger logger, double seconds, Exception exception);
}
