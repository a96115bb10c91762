using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.Quotas;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Conductor;

/// <summary>
/// Nova's build-timeout and task-timeout periodic tasks: a build not done within <see cref="ComputeOptions.BuildTimeout"/>
/// goes to ERROR, gives back its claim and has whatever the node made of it deleted (an answer arriving later is deleted
/// too: <see cref="BuildConsumers"/>); an operation a node never answered is given up after
/// <see cref="ComputeOptions.ActionTimeout"/>. Also drops console tickets past their time and client tokens past
/// <see cref="ClientTokenLifetime"/>. Every replica runs it; the
/// row's version makes each change happen once.
/// </summary>
public sealed partial class StuckTaskReaper(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, ComputeUsageReporter usage, TimeProvider time, ILogger<StuckTaskReaper> log)
    : BackgroundService
{
    public static readonly TimeSpan ClientTokenLifetime = TimeSpan.FromDays(7);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReapAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogReapFailed(log, ex);
            }
            await Task.Delay(options.Value.ReaperInterval, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async Task ReapAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var buildDeadline = now - options.Value.BuildTimeout;
        var actionDeadline = now - options.Value.ActionTimeout;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var stuck = await db.Instances.AsNoTracking()
            .Where(i => (i.Status == InstanceStatus.Building && i.CreatedAt < buildDeadline && i.Task != InstanceTask.Deleting)
                || (i.Task != null && i.Status != InstanceStatus.Building && i.TaskStartedAt < actionDeadline)
                || (i.Task == InstanceTask.Deleting && i.TaskStartedAt < actionDeadline))
            .OrderBy(i => i.Sequence).Select(i => i.Id).Take(500).ToListAsync(cancellationToken);
        foreach (var id in stuck)
        {
            db.ChangeTracker.Clear();
            try
            {
                await ReapAsync(db, id, now, cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Its answer arrived in the meantime (or another replica reaped it): nothing is stuck any more.
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogInstanceReapFailed(log, id, ex);
            }
        }
        await db.ConsoleTokens.Where(t => t.ExpiresAt < now - TimeSpan.FromHours(1)).ExecuteDeleteAsync(cancellationToken);
        // A client token answers repeats for a week (EC2 keeps them at least a day); then it may name a new launch.
        await db.LaunchRequests.Where(r => r.CreatedAt < now - ClientTokenLifetime).ExecuteDeleteAsync(cancellationToken);
    }

    private async Task ReapAsync(ComputeDbContext db, Guid id, DateTime now, CancellationToken cancellationToken)
    {
        var instance = await db.FindAsync(id, cancellationToken);
        if (instance is null)
            return;
        var before = instance.Status;
        if (instance.Status == InstanceStatus.Building && instance.Task != InstanceTask.Deleting)
        {
            var minutes = options.Value.BuildTimeout.TotalMinutes;
            var message = $"The build did not finish within {minutes:0.#} min ({(instance.Task == InstanceTask.Scheduling ? "no host was chosen" : "the host did not report back")}).";
            BuildConsumers.Fail(instance, BuildFaults.BuildTimeout, message, new { host = instance.Host, attempts = instance.FailedAttempts }, now);
            Placement.ReleaseClaim(db, instance.Id);
            if (instance.Host is { } host)
            {
                // Whatever the node made of it goes; the instance is on no host any more (a late answer is deleted too).
                Placement.DeleteFrom(db, instance.Id, host);
                instance.Host = null;
            }
            await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, BuildFaults.BuildTimeout, message, null, now, cancellationToken);
            LogBuildTimedOut(log, instance.Id, minutes);
        }
        else if (InstanceTransitions.Running(instance) is { } rule)
        {
            var message = $"The host did not answer within {options.Value.ActionTimeout.TotalMinutes:0.#} min.";
            instance.Task = null;
            instance.TaskStartedAt = null;
            if (rule.Operation == InstanceOperation.Delete)
                BuildConsumers.Fail(instance, BuildFaults.DeleteFailed, "The host did not answer the delete; try again.", new { instance.Host }, now);
            await InstanceLifecycle.FinishAsync(db, instance.Id, [rule.Operation], false, "timeout", message, null, now, cancellationToken);
            LogActionTimedOut(log, instance.Id, rule.Operation, instance.Host ?? "(none)");
        }
        else
        {
            return;
        }
        await InstanceLifecycle.ChangedAsync(db, instance, before, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        usage.Touch(instance.ProjectId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: build timed out after {Minutes:0.#} min; now in error, claim released")]
    private static partial void LogBuildTimedOut(ILogger logger, Guid instanceId, double minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: {Operation} on {Host} was not answered in time; given up")]
    private static partial void LogActionTimedOut(ILogger logger, Guid instanceId, InstanceOperation operation, string host);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not give up stuck instance {InstanceId}; trying again at the next pass")]
    private static partial void LogInstanceReapFailed(ILogger logger, Guid instanceId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "The stuck-task reaper failed; it runs again at its next interval")]
    private static partial void LogReapFailed(ILogger logger, Exception exception);
}
