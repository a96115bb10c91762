using System.Threading.Channels;
using CloudPortal.Contracts.Identity;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>
/// Reports a module's quota usage to Identity's quota view (<see cref="QuotaUsageReported"/>): soon after a change
/// (<see cref="Touch"/>), and for every project at each <see cref="ReconcileInterval"/>, so a report lost to a restart or
/// a broker outage is repaired. Usage is always recounted from the owner's records, never added up from changes, so it
/// cannot drift. Not sent through the outbox: the next report replaces a lost one.
/// </summary>
public abstract partial class QuotaUsageReporter(IServiceScopeFactory scopes, TimeProvider time, ILogger log) : BackgroundService
{
    private readonly Channel<Guid> _touched = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The module that counts (<see cref="QuotaUsageReported.Owner"/>).</summary>
    protected abstract string Owner { get; }

    protected abstract TimeSpan ReconcileInterval { get; }

    /// <summary>Every project that has (or had) anything this module counts.</summary>
    protected abstract Task<IReadOnlyCollection<Guid>> ProjectsAsync(IServiceProvider services, CancellationToken cancellationToken);

    /// <summary>The project's usage of each resource this module owns, counted from its records now.</summary>
    protected abstract Task<IReadOnlyList<ResourceUsage>> CountAsync(IServiceProvider services, Guid projectId, CancellationToken cancellationToken);

    /// <summary>The project's usage changed (or may have): report it soon.</summary>
    public void Touch(Guid projectId) => _touched.Writer.TryWrite(projectId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextReconcile = time.GetUtcNow();   // a full pass at start-up, then at every interval
        while (!stoppingToken.IsCancellationRequested)
        {
            var projects = new HashSet<Guid>();
            var reconcile = time.GetUtcNow() >= nextReconcile;
            try
            {
                if (!reconcile)
                {
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    wait.CancelAfter(Max(nextReconcile - time.GetUtcNow(), TimeSpan.Zero));
                    try
                    {
                        projects.Add(await _touched.Reader.ReadAsync(wait.Token));
                        // Let a burst of changes (20 launches at once) become one report per project.
                        await Task.Delay(TimeSpan.FromMilliseconds(100), time, stoppingToken);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        reconcile = true;
                    }
                }
                while (_touched.Reader.TryRead(out var project))
                    projects.Add(project);
                await ReportAsync(projects, reconcile, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The broker or the database is away: the next change or the next full pass reports again.
                LogReportFailed(log, Owner, ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (reconcile)
                nextReconcile = time.GetUtcNow() + ReconcileInterval;
        }
    }

    private async Task ReportAsync(HashSet<Guid> projects, bool everyProject, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        if (everyProject)
            projects.UnionWith(await ProjectsAsync(scope.ServiceProvider, cancellationToken));
        foreach (var project in projects)
        {
            var countedAt = time.GetUtcNow();
            var usage = await CountAsync(scope.ServiceProvider, project, cancellationToken);
            await publish.Publish(new QuotaUsageReported(project, Owner, usage, countedAt), cancellationToken);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report {Owner} usage to the quota view; trying again at the next change or full pass")]
    private static partial void LogReportFailed(ILogger logger, string owner, Exception exception);
}
