using CloudPortal.Contracts.Scheduler;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Capacity;

/// <summary>
/// Reports this node to the Scheduler once the host has started, then on every heartbeat. The agent keeps
/// nothing durable, so it publishes directly: a lost report is replaced by the next one.
/// </summary>
public sealed partial class NodeReporter(
    NodeCapacityProbe probe,
    IBus bus,
    IHostApplicationLifetime lifetime,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<NodeReporter> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The bus and the in-process consumers are started by then.
        await WaitForStartAsync(stoppingToken).ConfigureAwait(false);
        var host = options.Value.Host;
        var reported = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = options.Value.HeartbeatInterval;
            try
            {
                var capacity = probe.Read();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(15));
                await bus.Publish(new ComputeNodeReported(host, capacity.VCpus, capacity.MemoryMb, capacity.DiskGb,
                    capacity.HypervisorType, capacity.HypervisorVersion, capacity.CpuModel, capacity.Source, capacity.Simulated,
                    time.GetUtcNow()), timeout.Token).ConfigureAwait(false);
                if (!reported)
                    LogReported(log, host, capacity.VCpus, capacity.MemoryMb, capacity.DiskGb, capacity.HypervisorType, capacity.Source);
                reported = true;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogReportFailed(log, host, ex.Message);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks, TimeSpan.FromSeconds(5).Ticks));
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

    private async Task WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reported node {Host}: {VCpus} vCPUs, {MemoryMb} MB RAM, {DiskGb} GB disk, hypervisor {Hypervisor} (from {Source})")]
    private static partial void LogReported(ILogger logger, string host, int vCpus, long memoryMb, long diskGb, string hypervisor, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report node {Host} to the scheduler: {Reason}; retrying")]
    private static partial void LogReportFailed(ILogger logger, string host, string reason);
}
