using CloudPortal.Compute.Conductor;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.Quotas;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.PowerSync;

/// <summary>
/// libvirt is the truth (Nova's power-state sync, event-driven): a power change nobody asked for — <c>virsh destroy</c>,
/// <c>virsh start</c>, a guest that powered itself off — moves the instance's status within seconds, and is written in its
/// action log; a domain that vanished turns the instance to ERROR. Changes during an operation only record the power
/// state: the operation's answer settles the status.
/// </summary>
public sealed partial class PowerSyncConsumers(ComputeDbContext db, IOptions<ComputeOptions> options, ComputeUsageReporter usage, TimeProvider time, ILogger<PowerSyncConsumers> log) :
    IConsumer<InstancePowerStateChanged>,
    IConsumer<NodeInstancesReported>
{
    public async Task Consume(ConsumeContext<InstancePowerStateChanged> context)
    {
        var changed = context.Message;
        await db.ConsumeOnceAsync(context, "compute-power-state", async () =>
        {
            var instance = await db.FindAsync(changed.InstanceId, context.CancellationToken);
            if (instance is null || instance.Status == InstanceStatus.Deleted || instance.Host != changed.Host)
                return;   // a domain Compute does not know here: the node report's reconciliation deals with it
            if (instance.PowerStateAt is { } seen && seen > changed.At.UtcDateTime)
                return;   // older than what is recorded
            var now = time.GetUtcNow().UtcDateTime;
            var before = instance.Status;
            var powerChanged = ActionConsumers.Observe(instance, changed.PowerState, changed.At);
            if (instance.Task is null && instance.Status is not (InstanceStatus.Building or InstanceStatus.Error))
            {
                if (changed.PowerState == PowerState.NoState)
                {
                    Vanished(instance, $"libvirt: {changed.Reason}", now);
                    LogVanished(log, instance.Id, changed.Host, changed.Reason);
                }
                else if (InstanceTransitions.StatusFor(changed.PowerState) is { } status && status != instance.Status)
                {
                    instance.Status = status;
                    var record = InstanceLifecycle.Record(db, instance, OperationFor(status), ActionRequester.System("power-sync"), now);
                    (record.FinishedAt, record.Result, record.Detail) = (now, "success", $"seen on the host, not asked through CloudPortal (libvirt: {changed.Reason})");
                    LogSynced(log, instance.Id, before, status, changed.Reason);
                }
            }
            if (powerChanged || before != instance.Status)
                await InstanceLifecycle.ChangedAsync(db, instance, before, now, context.CancellationToken);
        });
    }

    /// <summary>
    /// Reconciles a node's full list of CloudPortal domains with Compute's instances on that node: an idle instance whose
    /// domain is missing goes to ERROR; a domain with no live instance behind it is deleted once it has been seen for
    /// <see cref="ComputeOptions.StrayDomainGrace"/>.
    /// </summary>
    public async Task Consume(ConsumeContext<NodeInstancesReported> context)
    {
        var report = context.Message;
        var touched = new HashSet<Guid>();
        await db.ConsumeOnceAsync(context, "compute-node-report", async () =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            var reportedAt = report.At.UtcDateTime;
            var onNode = report.Instances.ToDictionary(i => i.InstanceId);
            var ids = onNode.Keys.ToList();
            var expected = await db.Instances
                .Where(i => (i.Host == report.Host && i.Status != InstanceStatus.Deleted) || ids.Contains(i.Id))
                .ToListAsync(context.CancellationToken);

            foreach (var instance in expected.Where(i => i.Host == report.Host && i.Status != InstanceStatus.Deleted && !onNode.ContainsKey(i.Id)))
            {
                // Only an idle instance that ran and existed before the node looked: a build or an operation in flight settles
                // itself, and an instance in error already says what is wrong with it.
                if (instance.Task is not null || instance.Status is InstanceStatus.Building or InstanceStatus.Error || instance.LaunchedAt is null
                    || instance.UpdatedAt >= reportedAt)
                    continue;
                var before = instance.Status;
                Vanished(instance, $"node {report.Host} reported no domain for it", now);
                LogVanished(log, instance.Id, report.Host, "missing from the node's report");
                await InstanceLifecycle.ChangedAsync(db, instance, before, now, context.CancellationToken);
                touched.Add(instance.ProjectId);
            }

            var live = expected.Where(i => i.Host == report.Host && i.Status != InstanceStatus.Deleted).Select(i => i.Id).ToHashSet();
            var strays = await db.StrayDomains.Where(s => s.Host == report.Host).ToDictionaryAsync(s => s.InstanceId, context.CancellationToken);
            foreach (var reported in report.Instances)
            {
                if (live.Contains(reported.InstanceId))
                {
                    if (strays.Remove(reported.InstanceId, out var revived) && revived.ReapedAt is null)
                        db.StrayDomains.Remove(revived);
                    continue;
                }
                if (!strays.TryGetValue(reported.InstanceId, out var stray))
                {
                    var instance = expected.FirstOrDefault(i => i.Id == reported.InstanceId);
                    stray = new StrayDomain
                    {
                        Host = report.Host,
                        InstanceId = reported.InstanceId,
                        ProjectId = reported.ProjectId,
                        FirstSeenAt = now,
                        LastSeenAt = now,
                        Reason = instance is null ? "no such instance in Compute"
                            : instance.Status == InstanceStatus.Deleted ? $"instance deleted at {instance.DeletedAt:O}"
                            : $"instance runs on {instance.Host ?? "no host"}",
                    };
                    db.StrayDomains.Add(stray);
                    LogStraySeen(log, report.Host, reported.InstanceId, stray.Reason, options.Value.StrayDomainGrace.TotalMinutes);
                    strays[reported.InstanceId] = stray;
                }
                stray.LastSeenAt = now;
                // Reaped once already and still there (the delete is queued, or failed): ask again after another grace period.
                var due = stray.ReapedAt is { } reaped ? now - reaped >= options.Value.StrayDomainGrace : now - stray.FirstSeenAt >= options.Value.StrayDomainGrace;
                if (due)
                {
                    stray.ReapedAt = now;
                    Placement.DeleteFrom(db, reported.InstanceId, report.Host);
                    LogStrayReaped(log, report.Host, reported.InstanceId, stray.Reason ?? "", (now - stray.FirstSeenAt).TotalMinutes);
                }
            }
            // Seen before, gone now (removed by hand) and never reaped: forget it. Reaped ones stay as the record of the reap.
            db.StrayDomains.RemoveRange(strays.Values.Where(s => !onNode.ContainsKey(s.InstanceId) && s.ReapedAt is null));
        });
        foreach (var project in touched)
            usage.Touch(project);
    }

    private static void Vanished(Instance instance, string detail, DateTime now)
    {
        instance.PowerState = PowerState.NoState;
        BuildConsumers.Fail(instance, BuildFaults.DomainVanished,
            "The instance's virtual machine disappeared from its host (removed outside CloudPortal); delete the instance.",
            new { detail }, now);
    }

    private static InstanceOperation OperationFor(InstanceStatus status) => status switch
    {
        InstanceStatus.Stopped => InstanceOperation.Stop,
        InstanceStatus.Paused => InstanceOperation.Pause,
        InstanceStatus.Suspended => InstanceOperation.Suspend,
        _ => InstanceOperation.Start,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId}: {Before} -> {After} from libvirt ({Reason})")]
    private static partial void LogSynced(ILogger logger, Guid instanceId, InstanceStatus before, InstanceStatus after, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: its domain vanished from {Host} ({Reason}); now in error")]
    private static partial void LogVanished(ILogger logger, Guid instanceId, string host, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Host} has domain cp-{InstanceId} with no live instance ({Reason}); it is deleted if still there after {GraceMinutes} min")]
    private static partial void LogStraySeen(ILogger logger, string host, Guid instanceId, string reason, double graceMinutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reaping stray domain cp-{InstanceId} on {Host} ({Reason}), seen for {Minutes:0.#} min")]
    private static partial void LogStrayReaped(ILogger logger, string host, Guid instanceId, string reason, double minutes);
}

public sealed class PowerSyncConsumersDefinition() : InstanceConsumerDefinition<PowerSyncConsumers>("compute-power-sync")
{
    protected override void Partition(IConsumerConfigurator<PowerSyncConsumers> consumer, IPartitioner partitioner)
    {
        consumer.Message<InstancePowerStateChanged>(m => m.UsePartitioner(partitioner, c => c.Message.InstanceId));
        consumer.Message<NodeInstancesReported>(m => m.UsePartitioner(partitioner, c => c.Message.Host));
    }
}
