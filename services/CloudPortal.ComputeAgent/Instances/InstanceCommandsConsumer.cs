using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>
/// Every instance command of the node's queue. Commands for one instance run one at a time; each is answered with an
/// event that says what happened or why not. Failures are answers, not exceptions: nothing is retried blindly or
/// parked in an error queue where Compute would never hear of it. Only a shutdown mid-command leaves the message
/// unacknowledged, so the broker delivers it again to the restarted agent (commands are idempotent).
/// </summary>
public sealed partial class InstanceCommandsConsumer(
    InstanceSpawner spawner,
    InstanceOperations operations,
    InstanceLocks locks,
    HypervisorSession session,
    AgentSettings settings,
    TimeProvider time,
    ILogger<InstanceCommandsConsumer> log) :
    IConsumer<SpawnInstance>,
    IConsumer<StopInstance>,
    IConsumer<StartInstance>,
    IConsumer<RebootInstance>,
    IConsumer<PauseInstance>,
    IConsumer<UnpauseInstance>,
    IConsumer<SuspendInstance>,
    IConsumer<ResumeInstance>,
    IConsumer<DeleteInstance>
{
    public async Task Consume(ConsumeContext<SpawnInstance> context)
    {
        // libvirt's calls block their thread; yielding first hands the transport its thread back at once, so that the
        // next command (another instance's spawn) starts now rather than after this one (the in-memory bus of an
        // all-in-one cloud dispatches on the caller's thread until the first real await).
        await Task.Yield();
        var command = context.Message;
        var cancellationToken = context.CancellationToken;
        if (command.Host != settings.Host)
        {
            await context.Publish(new InstanceSpawnFailed(command.InstanceId, settings.Host, AgentFailureCodes.WrongHost, WrongHost(command.Host), time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return;
        }
        using (await locks.AcquireAsync(command.InstanceId, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var spawned = await spawner.SpawnAsync(command, cancellationToken).ConfigureAwait(false);
                await context.Publish(spawned, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
            {
                LogSpawnFailed(log, command.InstanceId, failure.Code, failure.Reason);
                await context.Publish(new InstanceSpawnFailed(command.InstanceId, settings.Host, failure.Code, failure.Reason, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public Task Consume(ConsumeContext<StopInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Stop, ct => operations.StopAsync(context.Message.InstanceId, context.Message.Timeout, ct));

    public Task Consume(ConsumeContext<StartInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Start, _ => operations.StartAsync(context.Message.InstanceId));

    public Task Consume(ConsumeContext<RebootInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Reboot, ct => operations.RebootAsync(context.Message.InstanceId, context.Message.Hard, context.Message.Timeout, ct));

    public Task Consume(ConsumeContext<PauseInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Pause, _ => operations.PauseAsync(context.Message.InstanceId));

    public Task Consume(ConsumeContext<UnpauseInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Unpause, _ => operations.UnpauseAsync(context.Message.InstanceId));

    public Task Consume(ConsumeContext<SuspendInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Suspend, _ => operations.SuspendAsync(context.Message.InstanceId));

    public Task Consume(ConsumeContext<ResumeInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Resume, _ => operations.ResumeAsync(context.Message.InstanceId));

    public Task Consume(ConsumeContext<DeleteInstance> context) =>
        RunAsync(context, context.Message.InstanceId, context.Message.Host, InstanceAction.Delete, _ => operations.DeleteAsync(context.Message.InstanceId));

    private async Task RunAsync(ConsumeContext context, Guid instanceId, string host, InstanceAction action, Func<CancellationToken, Task<ActionOutcome>> run)
    {
        await Task.Yield();   // as for a spawn: blocking libvirt calls must not hold up the other instances' commands
        var cancellationToken = context.CancellationToken;
        if (host != settings.Host)
        {
            await context.Publish(new InstanceActionFailed(instanceId, settings.Host, action, AgentFailureCodes.WrongHost, WrongHost(host), null, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            return;
        }
        using (await locks.AcquireAsync(instanceId, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                var outcome = await run(cancellationToken).ConfigureAwait(false);
                LogActionDone(log, instanceId, action, outcome.Detail, outcome.PowerState);
                await context.Publish(new InstanceActionCompleted(instanceId, settings.Host, action, outcome.PowerState, outcome.Changed, outcome.Detail,
                    session.Current?.Simulated ?? false, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (Failure(ex, cancellationToken) is { } failure)
            {
                var state = failure.PowerState ?? operations.CurrentPowerState(instanceId);
                LogActionFailed(log, instanceId, action, failure.Code, failure.Reason);
                await context.Publish(new InstanceActionFailed(instanceId, settings.Host, action, failure.Code, failure.Reason, state, time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string WrongHost(string? host) => $"the command is for host '{host}', but this is the agent of node {settings.Host}";

    /// <summary>What to answer for a failure; null for a shutdown in progress (the message is then delivered again).</summary>
    private (string Code, string Reason, PowerState? PowerState)? Failure(Exception ex, CancellationToken cancellationToken)
    {
        switch (ex)
        {
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case AgentFailureException failure:
                return (failure.Code, failure.Message, failure.PowerState);
            case HypervisorUnavailableException:
                return (AgentFailureCodes.HypervisorUnavailable, ex.Message, null);
            case ObjectDisposedException:
                return (AgentFailureCodes.HypervisorUnavailable, "the connection to libvirt was lost during the operation", null);
            case LibvirtException libvirt:
                return (AgentFailureCodes.HypervisorError, libvirt.Message, null);
            default:
                LogUnexpected(log, ex);
                return (AgentFailureCodes.AgentError, $"unexpected {ex.GetType().Name}: {ex.Message}", null);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spawn of instance {InstanceId} failed: {Code}: {Reason}")]
    private static partial void LogSpawnFailed(ILogger logger, Guid instanceId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId}: {Action} done, {Detail} (now {PowerState})")]
    private static partial void LogActionDone(ILogger logger, Guid instanceId, InstanceAction action, string detail, PowerState powerState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {InstanceId}: {Action} failed: {Code}: {Reason}")]
    private static partial void LogActionFailed(ILogger logger, Guid instanceId, InstanceAction action, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in an instance command")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);
}
