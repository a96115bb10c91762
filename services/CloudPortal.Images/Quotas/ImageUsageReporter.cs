using System.Threading.Channels;
using CloudPortal.Contracts.Identity;
using CloudPortal.Images.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Quotas;

/// <summary>
/// Reports each project's image usage to Identity's quota view (<see cref="QuotaUsageReported"/>): soon after a change
/// (<see cref="Touch"/>: an image created, stored, killed or deleted), and for every project at each
/// <see cref="ImagesOptions.UsageReconcileInterval"/>, so a report lost to a restart or a broker outage is repaired.
/// Usage is always recounted from the image records, never added up from changes, so it cannot drift.
/// </summary>
public sealed partial class ImageUsageReporter(IServiceScopeFactory scopes, IOptions<ImagesOptions> options, TimeProvider time, ILogger<ImageUsageReporter> log)
    : BackgroundService
{
    public const string Owner = "images";

    private readonly Channel<Guid> _touched = Channel.CreateUnbounded<Guid>(new UnboundedChannelOptions { SingleReader = true });

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
                        // Let a burst of changes (20 uploads at once) become one report per project.
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
                LogReportFailed(log, ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (reconcile)
                nextReconcile = time.GetUtcNow() + options.Value.UsageReconcileInterval;
        }
    }

    private async Task ReportAsync(HashSet<Guid> projects, bool everyProject, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
        var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
        if (everyProject)
            projects.UnionWith(await db.Images.Select(i => i.OwnerProjectId).Distinct().ToListAsync(cancellationToken));
        foreach (var project in projects)
        {
            var countedAt = time.GetUtcNow();
            var usage = await ImageQuotas.UsageAsync(db, project, cancellationToken);
            await publish.Publish(new QuotaUsageReported(project, Owner, usage.Select(u => new ResourceUsage(u.Resource, u.InUse, 0)).ToList(), countedAt), cancellationToken);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report image usage to the quota view; trying again at the next change or full pass")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
