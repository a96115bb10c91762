using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.Quotas;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Compute.Conductor;

/// <summary>
/// The nodes' answers to power actions and deletes. An answer settles the operation the instance is running when it is
/// that operation's, from that instance's host; any other answer (redelivered, stale, from a host the instance left)
/// only updates what libvirt said about the power state.
/// </summary>
public sealed partial class ActionConsumers(ComputeDbContext db, ComputeUsageReporter usage, TimeProvider time, ILogger<ActionConsumers> log) :
    IConsumer<InstanceActionCompleted>,
    IConsumer<InstanceActionFailed>
{
    public async Task Consume(ConsumeContext<InstanceActionCompleted> context)
    {
        var done = context.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-action-completed", async () =>
        {
            var instance = await db.FindAsync(done.InstanceId, context.CancellationToken);
            if (instance is null || instance.Status == InstanceStatus.Deleted || instance.Host != done.Host)
                return;
            var now = time.GetUtcNow().UtcDateTime;
            var before = instance.Status;
            var rule = InstanceTransitions.Running(instance);
            if (rule is null || rule.AgentAction != done.Action)
            {
                if (Observe(instance, done.PowerState, done.At))
                    await InstanceLifecycle.ChangedAsync(db, instance, before, now, context.CancellationToken);
                return;
            }
            if (done.Action == InstanceAction.Delete)
            {
                await DeletedAsync(instance, "deleted", now, context.CancellationToken);
            }
            else
            {
                instance.Status = rule.Ends;
                instance.Task = null;
                instance.TaskStartedAt = null;
                instance.ClearFault();
                Observe(instance, done.PowerState, done.At);
                await InstanceLifecycle.FinishAsync(db, instance.Id, [rule.Operation], true, null, null, done.Detail, now, context.CancellationToken);
            }
            await InstanceLifecycle.ChangedAsync(db, instance, before, now, context.CancellationToken);
            project = instance.ProjectId;
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    public async Task Consume(ConsumeContext<InstanceActionFailed> context)
    {
        var failed = context.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-action-failed", async () =>
        {
            var instance = await db.FindAsync(failed.InstanceId, context.CancellationToken);
            if (instance is null || instance.Status == InstanceStatus.Deleted || instance.Host != failed.Host)
                return;
            var now = time.GetUtcNow().UtcDateTime;
            var before = instance.Status;
            var rule = InstanceTransitions.Running(instance);
            if (rule is null || rule.AgentAction != failed.Action)
                return;
            LogActionFailed(log, instance.Id, failed.Action, failed.Code, failed.Reason);
            if (failed.Action == InstanceAction.Delete && failed.Code == AgentFailureCodes.InstanceNotFound)
            {
                // The node has nothing of it (never spawned there, or removed already): deleted is what was asked.
                await DeletedAsync(instance, "the node had nothing of the instance left", now, context.CancellationToken);
            }
            else
            {
                instance.Task = null;
                instance.TaskStartedAt = null;
                if (failed.PowerState is { } power)
                    Observe(instance, power, failed.At);
                if (failed.Code == AgentFailureCodes.InstanceNotFound)
                {
                    BuildConsumers.Fail(instance, BuildFaults.DomainVanished,
                        "The instance's virtual machine no longer exists on its host (removed outside CloudPortal); delete the instance.",
                        new { failed.Host, failed.Reason }, now);
                }
                else if (failed.Action == InstanceAction.Delete)
                {
                    BuildConsumers.Fail(instance, BuildFaults.DeleteFailed, "The host could not delete the instance; try again.", new { failed.Host, failed.Code, failed.Reason }, now);
                }
                await InstanceLifecycle.FinishAsync(db, instance.Id, [rule.Operation], false, failed.Code, TenantReason(failed), null, now, context.CancellationToken);
            }
            await InstanceLifecycle.ChangedAsync(db, instance, before, now, context.CancellationToken);
            project = instance.ProjectId;
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    private async Task DeletedAsync(Instance instance, string detail, DateTime now, CancellationToken cancellationToken)
    {
        instance.Status = InstanceStatus.Deleted;
        instance.Task = null;
        instance.TaskStartedAt = null;
        instance.PowerState = PowerState.NoState;
        Placement.ReleaseClaim(db, instance.Id);
        await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Delete], true, null, null, detail, now, cancellationToken);
        // A build that was still running when the delete came never finishes now.
        await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, "deleted", "The instance was deleted before it was built.", null, now, cancellationToken);
    }

    /// <summary>Records what libvirt said, unless an observation made later is recorded already; true when the power state changed.</summary>
    public static bool Observe(Instance instance, PowerState power, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.PowerStateAt is { } seen && seen > at.UtcDateTime)
            return false;
        var changed = instance.PowerState != power;
        instance.PowerState = power;
        instance.PowerStateAt = at.UtcDateTime;
        return changed;
    }

    /// <summary>
    /// The agent's reason names states, not hosts or paths, for power actions ("cannot pause instance ...: it is shut off");
    /// that is what the tenant reads in the action log.
    /// </summary>
    private static string TenantReason(InstanceActionFailed failed) => failed.Code switch
    {
        AgentFailureCodes.InvalidState => failed.Reason,
        _ => BuildFaults.ForTenant(failed.Code),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: {Action} failed on its host: {Code}: {Reason}")]
    private static partial void LogActionFailed(ILogger logger, Guid instanceId, InstanceAction action, string code, string reason);
}

public sealed class ActionConsumersDefinition() : InstanceConsumerDefinition<ActionConsumers>("compute-actions")
{
    protected override void Partition(IConsumerConfigurator<ActionConsumers> consumer, IPartitioner partitioner)
    {
        consumer.Message<InstanceActionCompleted>(m => m.UsePartitioner(partitioner, c => c.Message.InstanceId));
        consumer.Message<InstanceActionFailed>(m => m.UsePartitioner(partitioner, c => c.Message.InstanceId));
    }
}
