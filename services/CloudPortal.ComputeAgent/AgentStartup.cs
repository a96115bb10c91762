using Microsoft.Extensions.Hosting;

namespace CloudPortal.ComputeAgent;

internal static class AgentStartup
{
    /// <summary>Waits until the host has started: the bus runs by then, so publishing works.</summary>
    public static async Task WaitForStartAsync(IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
    }
}
