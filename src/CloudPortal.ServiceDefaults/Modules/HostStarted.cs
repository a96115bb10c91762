using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Modules;

public static class HostStarted
{
    /// <summary>
    /// Waits until the host has started (the bus with it: hosted services start before it runs); false when the host
    /// stops first. Background services that talk to other modules at start wait for this.
    /// </summary>
    public static async Task<bool> StartedAsync(this IHostApplicationLifetime lifetime, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        await started.Task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return started.Task.IsCompletedSuccessfully;
    }
}
