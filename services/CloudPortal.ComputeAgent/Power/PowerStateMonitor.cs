using System.Threading.Channels;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ComputeAgent.Power;

/// <summary>
/// libvirt lifecycle events of this agent's domains → <see cref="InstancePowerStateChanged"/>, as they happen: also
/// for changes made outside CloudPortal (virsh destroy, a guest powering itself off, a crash). Subscribes for every
/// domain on each new libvirt connection, and asks for a full report after each, since events may have been missed
/// while there was none.
/// </summary>
public sealed partial class PowerStateMonitor(
    HypervisorSession session,
    OwnedDomains owned,
    PowerStateTracker tracker,
    InstanceReporter reporter,
    IBus bus,
    AgentSettings settings,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<PowerStateMonitor> log) : BackgroundService
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);

    // Written on libvirt's event loop thread, which must never block: the handler only stamps and queues.
    private readonly Channel<(DomainLifecycleEvent Event, DateTimeOffset At)> _events =
        Channel.CreateUnbounded<(DomainLifecycleEvent, DateTimeOffset)>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await AgentStartup.WaitForStartAsync(lifetime, stoppingToken).ConfigureAwait(false);
        var publishing = PublishAsync(stoppingToken);
        try
        {
            await WatchAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _events.Writer.TryComplete();
            await publishing.ConfigureAwait(false);
        }
    }

    /// <summary>Keeps one lifecycle subscription on the current connection.</summary>
    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        var subscribedGeneration = 0;
        IDisposable? subscription = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var delay = WatchInterval;
                if (!session.TryConnect(out var connection, out var info, out _))
                {
                    delay = RetryInterval;
                }
                else if (session.Generation != subscribedGeneration)
                {
                    subscription?.Dispose();
                    subscription = connection.SubscribeDomainLifecycle(e => _events.Writer.TryWrite((e, time.GetUtcNow())));
                    subscribedGeneration = session.Generation;
                    LogWatching(log, info.Uri);
                    reporter.RequestReport();
                }
                try
                {
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            subscription?.Dispose();
        }
    }

    private async Task PublishAsync(CancellationToken stoppingToken)
    {
        await foreach (var (@event, at) in _events.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            if (stoppingToken.IsCancellationRequested)
                return;
            try
            {
                var state = PowerStates.FromEvent(@event.Type, @event.Detail);
                if (state is null || DomainXml.InstanceIdOf(@event.DomainName) is not { } instanceId)
                    continue;
                if (!session.TryConnect(out var connection, out var info, out _) || owned.Lookup(connection, @event.DomainUuid, @event.DomainName) is null)
                    continue;
                var reason = PowerStates.Describe(@event.Type, @event.Detail);
                await tracker.Gate.WaitAsync(stoppingToken).ConfigureAwait(false);
                try
                {
                    tracker.Set(instanceId, state.Value);
                }
                finally
                {
                    tracker.Gate.Release();
                }
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(PublishTimeout);
                await bus.Publish(new InstancePowerStateChanged(instanceId, settings.Host, state.Value, reason, at, PowerStateSources.LibvirtEvent, info.Simulated), timeout.Token).ConfigureAwait(false);
                LogChanged(log, instanceId, state.Value, reason);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The next periodic report carries the state anyway.
                LogPublishFailed(log, @event.DomainName, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching libvirt lifecycle events at {Uri}")]
    private static partial void LogWatching(ILogger logger, string uri);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId} is now {PowerState} ({Reason})")]
    private static partial void LogChanged(ILogger logger, Guid instanceId, PowerState powerState, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the power state of {Domain}: {Reason}; the next report carries it")]
    private static partial void LogPublishFailed(ILogger logger, string domain, string reason);
}
