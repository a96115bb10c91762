using System.Text.Json;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.Quotas;
using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.ServiceDefaults.Outbox;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Conductor;

/// <summary>
/// The conductor's half of a launch (Nova's conductor): the Scheduler's answer becomes a spawn on the chosen node, a
/// failed spawn a retry on another host (the Scheduler moves the claim), the last failure or "no valid host" an ERROR
/// with a fault that says why, a spawned domain ACTIVE. Every answer is checked against the instance's state before it
/// acts, so a redelivered, late or stale message changes nothing — and a domain that should not exist is removed.
/// </summary>
public sealed partial class BuildConsumers(ComputeDbContext db, IOptions<ComputeOptions> options, ComputeUsageReporter usage, TimeProvider time, ILogger<BuildConsumers> log) :
    IConsumer<HostsSelected>,
    IConsumer<NoValidHost>,
    IConsumer<InstanceSpawned>,
    IConsumer<InstanceSpawnFailed>,
    IConsumer<Fault<SelectHosts>>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task Consume(ConsumeContext<HostsSelected> context)
    {
        var answer = context.Message;
        await db.ConsumeOnceAsync(context, "compute-hosts-selected", async () =>
        {
            var instance = await db.FindAsync(answer.ConsumerId, context.CancellationToken);
            if (instance is null || instance.Status == InstanceStatus.Deleted)
            {
                // Deleted while the Scheduler was choosing: give the claim back.
                Placement.ReleaseClaim(db, answer.ConsumerId);
                return;
            }
            if (instance.Status != InstanceStatus.Building || instance.Task != InstanceTask.Scheduling || instance.FailedHosts.Contains(answer.Host))
                return;   // a redelivered answer, or one of an earlier attempt
            instance.Host = answer.Host;
            instance.Task = InstanceTask.Spawning;
            Placement.Spawn(db, instance);
            await InstanceLifecycle.ChangedAsync(db, instance, instance.Status, Now, context.CancellationToken);
        });
    }

    public async Task Consume(ConsumeContext<NoValidHost> context)
    {
        var answer = context.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-no-valid-host", async () =>
        {
            // On a reschedule the Scheduler keeps the old claim when it finds no other host: give it back in any case.
            Placement.ReleaseClaim(db, answer.ConsumerId);
            var instance = await db.FindAsync(answer.ConsumerId, context.CancellationToken);
            if (instance is null || instance.Status != InstanceStatus.Building || instance.Task != InstanceTask.Scheduling)
                return;
            var now = Now;
            var message = instance.FailedAttempts.Count == 0
                ? $"No valid host: {answer.Reason}."
                : $"The build failed on {Hosts(instance.FailedAttempts.Count)} ({BuildFaults.ForTenant(instance.FailedAttempts[^1].Code)}), and no other host can take it: {answer.Reason}.";
            Fail(instance, BuildFaults.NoValidHost, message, new
            {
                scheduler = new { reason = answer.Reason, hostsConsidered = answer.HostsConsidered, filters = answer.Filters, hosts = answer.Hosts },
                attempts = instance.FailedAttempts,
            }, now);
            await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, BuildFaults.NoValidHost, message, null, now, context.CancellationToken);
            await InstanceLifecycle.ChangedAsync(db, instance, InstanceStatus.Building, now, context.CancellationToken);
            project = instance.ProjectId;
            LogNoValidHost(log, instance.Id, answer.Reason);
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    public async Task Consume(ConsumeContext<InstanceSpawned> context)
    {
        var spawned = context.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-instance-spawned", async () =>
        {
            var instance = await db.FindAsync(spawned.InstanceId, context.CancellationToken);
            if (instance is null || instance.Status is InstanceStatus.Deleted or InstanceStatus.Error || instance.Task == InstanceTask.Deleting || instance.Host != spawned.Host)
            {
                // A late answer: the instance was deleted, gave up (timeout) or moved on to another host. Leave nothing behind.
                if (instance?.Status == InstanceStatus.Active && instance.Host == spawned.Host)
                    return;
                LogLateSpawn(log, spawned.InstanceId, spawned.Host, instance?.Status.ToString() ?? "unknown");
                Placement.DeleteFrom(db, spawned.InstanceId, spawned.Host);
                return;
            }
            if (instance.Status != InstanceStatus.Building || instance.Task != InstanceTask.Spawning)
                return;   // redelivered: already active
            var now = Now;
            instance.Status = InstanceStatus.Active;
            instance.Task = null;
            instance.TaskStartedAt = null;
            if (instance.PowerStateAt is null || instance.PowerStateAt <= spawned.At.UtcDateTime)
                (instance.PowerState, instance.PowerStateAt) = (spawned.PowerState, spawned.At.UtcDateTime);
            instance.ClearFault();
            await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], true, null, null,
                spawned.Simulated ? "spawned on a simulated hypervisor (no real virtual machine)" : "spawned", now, context.CancellationToken);
            await InstanceLifecycle.ChangedAsync(db, instance, InstanceStatus.Building, now, context.CancellationToken);
            project = instance.ProjectId;
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    public async Task Consume(ConsumeContext<InstanceSpawnFailed> context)
    {
        var failed = context.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-instance-spawn-failed", async () =>
        {
            var instance = await db.FindAsync(failed.InstanceId, context.CancellationToken);
            if (instance is null || instance.Status == InstanceStatus.Deleted)
            {
                Placement.ReleaseClaim(db, failed.InstanceId);
                return;
            }
            if (instance.Status != InstanceStatus.Building || instance.Task != InstanceTask.Spawning || instance.Host != failed.Host)
                return;   // redelivered, or about an attempt already given up
            var now = Now;
            instance.FailedAttempts = [.. instance.FailedAttempts, new BuildAttempt(instance.Attempts, failed.Host, failed.Code, failed.Reason, failed.At)];
            instance.Host = null;
            LogSpawnFailed(log, instance.Id, instance.Attempts, failed.Host, failed.Code, failed.Reason);
            if (instance.Attempts < options.Value.MaxBuildAttempts && BuildFaults.Reschedulable(failed.Code))
            {
                // The Scheduler moves the claim off the failed host (SelectHosts with AvoidHosts) in one step.
                instance.Attempts++;
                instance.Task = InstanceTask.Scheduling;
                await Placement.RequestHostAsync(db, instance, context.CancellationToken);
                await InstanceLifecycle.ChangedAsync(db, instance, instance.Status, now, context.CancellationToken);
                return;
            }
            var message = instance.FailedAttempts.Count == 1
                ? $"The build failed: {BuildFaults.ForTenant(failed.Code)}."
                : $"The build failed on {Hosts(instance.FailedAttempts.Count)}; the last time: {BuildFaults.ForTenant(failed.Code)}.";
            Fail(instance, BuildFaults.BuildFailed, message, new { attempts = instance.FailedAttempts }, now);
            Placement.ReleaseClaim(db, instance.Id);
            await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, failed.Code, message, null, now, context.CancellationToken);
            await InstanceLifecycle.ChangedAsync(db, instance, InstanceStatus.Building, now, context.CancellationToken);
            project = instance.ProjectId;
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    /// <summary>The Scheduler could not handle the request at all (it faulted after its retries): fail now, not at the build timeout.</summary>
    public async Task Consume(ConsumeContext<Fault<SelectHosts>> context)
    {
        var request = context.Message.Message;
        var project = Guid.Empty;
        await db.ConsumeOnceAsync(context, "compute-select-hosts-fault", async () =>
        {
            Placement.ReleaseClaim(db, request.ConsumerId);
            var instance = await db.FindAsync(request.ConsumerId, context.CancellationToken);
            if (instance is null || instance.Status != InstanceStatus.Building || instance.Task != InstanceTask.Scheduling)
                return;
            var now = Now;
            const string message = "The Scheduler failed to place the instance (an internal error; operators have the details in its log).";
            Fail(instance, BuildFaults.SchedulerError, message,
                new { exceptions = context.Message.Exceptions.Select(e => new { type = e.ExceptionType, message = e.Message }) }, now);
            await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, BuildFaults.SchedulerError, message, null, now, context.CancellationToken);
            await InstanceLifecycle.ChangedAsync(db, instance, InstanceStatus.Building, now, context.CancellationToken);
            project = instance.ProjectId;
        });
        if (project != Guid.Empty)
            usage.Touch(project);
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>The instance gives up: ERROR, no task, no host to return to.</summary>
    public static void Fail(Instance instance, string code, string message, object details, DateTime at)
    {
        ArgumentNullException.ThrowIfNull(instance);
        instance.Status = InstanceStatus.Error;
        instance.Task = null;
        instance.TaskStartedAt = null;
        instance.SetFault(code, message, JsonSerializer.Serialize(details, Json), at);
    }

    private static string Hosts(int count) => count == 1 ? "1 host" : $"{count} hosts";

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId}: no valid host: {Reason}")]
    private static partial void LogNoValidHost(ILogger logger, Guid instanceId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: attempt {Attempt} failed on {Host}: {Code}: {Reason}")]
    private static partial void LogSpawnFailed(ILogger logger, Guid instanceId, int attempt, string host, string code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId} was spawned on {Host} although it is {Status} and is not being built there: deleting that domain")]
    private static partial void LogLateSpawn(ILogger logger, Guid instanceId, string host, string status);
}

public sealed class BuildConsumersDefinition() : InstanceConsumerDefinition<BuildConsumers>("compute-build")
{
    protected override void Partition(IConsumerConfigurator<BuildConsumers> consumer, IPartitioner partitioner)
    {
        consumer.Message<HostsSelected>(m => m.UsePartitioner(partitioner, c => c.Message.ConsumerId));
        consumer.Message<NoValidHost>(m => m.UsePartitioner(partitioner, c => c.Message.ConsumerId));
        consumer.Message<InstanceSpawned>(m => m.UsePartitioner(partitioner, c => c.Message.InstanceId));
        consumer.Message<InstanceSpawnFailed>(m => m.UsePartitioner(partitioner, c => c.Message.InstanceId));
        consumer.Message<Fault<SelectHosts>>(m => m.UsePartitioner(partitioner, c => c.Message.Message.ConsumerId));
    }
}
