using System.Threading.Channels;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Power;

/// <summary>
/// Every <c>ReportInterval</c>, and whenever the event monitor (re)connects: <see cref="NodeInstancesReported"/> with
/// every instance of this agent that libvirt has. A state that differs from the last one published (an event lost
/// while libvirtd restarted) is also published as an <see cref="InstancePowerStateChanged"/> from source "report",
/// once two scans in a row have seen it: a single scan may simply be ahead of an event still on its way.
/// </summary>
public sealed partial class InstanceReporter(
    HypervisorSession session,
    OwnedDomains owned,
    PowerStateTracker tracker,
    IBus bus,
    AgentSettings settings,
    IOptions<AgentOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<InstanceReporter> log) : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);
    private readonly Dictionary<Guid, PowerState> _suspects = [];
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Report as soon as possible (coalesced with any report already asked for).</summary>
    public void RequestReport() => _requests.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await AgentStartup.WaitForStartAsync(lifetime, stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = options.Value.ReportInterval;
            try
            {
                if (!await ReportAsync(stoppingToken).ConfigureAwait(false))
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, RetryInterval.Ticks));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogReportFailed(log, ex.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, RetryInterval.Ticks));
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            wait.CancelAfter(delay);
            try
            {
                await _requests.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // The interval passed.
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One scan and report; false when libvirt cannot be reached (nothing to report then).</summary>
    public async Task<bool> ReportAsync(CancellationToken cancellationToken)
    {
        if (!session.TryConnect(out var connection, out var info, out _))
            return false;
        var changes = new List<InstancePowerStateChanged>();
        var reports = new List<InstancePowerReport>();
        var now = time.GetUtcNow();
        await tracker.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var before = tracker.Snapshot();
            foreach (var (domain, metadata) in owned.List(connection))
            {
                using (domain)
                {
                    PowerState state;
                    try
                    {
                        state = PowerStates.Of(domain);
                    }
                    catch (LibvirtException ex) when (ex.ErrorCode == LibvirtErrorCode.NoDomain)
                    {
                        continue;
                    }
                    reports.Add(new InstancePowerReport(metadata.InstanceId, metadata.ProjectId, metadata.Flavor.Name, state));
                    if (!before.TryGetValue(metadata.InstanceId, out var previous))
                        tracker.Set(metadata.InstanceId, state);
                    else if (previous != state && Confirmed(metadata.InstanceId, state))
                    {
                        tracker.Set(metadata.InstanceId, state);
                        changes.Add(Change(metadata.InstanceId, state, $"found {state} by the periodic scan (last known {previous})", now, info.Simulated));
                    }
                    else if (previous == state)
                        _suspects.Remove(metadata.InstanceId);
                }
            }
            // Known instances libvirt no longer has: their Undefined event was missed.
            foreach (var (instanceId, previous) in before)
            {
                if (reports.All(r => r.InstanceId != instanceId) && Confirmed(instanceId, PowerState.NoState))
                {
                    tracker.Set(instanceId, PowerState.NoState);
                    changes.Add(Change(instanceId, PowerState.NoState, $"the domain is gone (last known {previous})", now, info.Simulated));
                }
            }
            foreach (var instanceId in _suspects.Keys.Where(id => !before.ContainsKey(id)).ToList())
                _suspects.Remove(instanceId);
        }
        finally
        {
            tracker.Gate.Release();
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        foreach (var change in changes)
            await bus.Publish(change, timeout.Token).ConfigureAwait(false);
        await bus.Publish(new NodeInstancesReported(settings.Host, reports, info.Simulated, now), timeout.Token).ConfigureAwait(false);
        LogReported(log, settings.Host, reports.Count, info.Simulated ? " (simulated)" : "");
        return true;
    }

    /// <summary>True the second scan in a row that finds this instance in <paramref name="state"/> against the tracker.</summary>
    private bool Confirmed(Guid instanceId, PowerState state)
    {
        if (_suspects.TryGetValue(instanceId, out var seen) && seen == state)
        {
            _suspects.Remove(instanceId);
            return true;
        }
        _suspects[instanceId] = state;
        return false;
    }

    private InstancePowerStateChanged Change(Guid instanceId, PowerState state, string reason, DateTimeOffset at, bool simulated) =>
        new(instanceId, settings.Host, state, reason, at, PowerStateSources.Report, simulated);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reported {Count} instances of node {Host}{Simulated}")]
    private static partial void LogReported(ILogger logger, string host, int count, string simulated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report this node's instances: {Reason}; retrying")]
    private static partial void LogReportFailed(ILogger logger, string reason);
}
