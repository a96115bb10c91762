using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Modules;

/// <summary>
/// The loop of a background service that keeps a copy of another module's state (quota limits, disabled projects): once
/// the host has started, it runs the resync, then again every interval; a failed one is retried after 1 s, doubling to
/// 1 min, while the copy it has stays in force.
/// </summary>
public static class Resync
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(1);

    /// <param name="interval">Read after every success, so a changed option takes effect at the next wait.</param>
    /// <param name="failed">Logs a failure, with the seconds until the next try.</param>
    public static async Task RunAsync(IHostApplicationLifetime lifetime, TimeProvider time, Func<CancellationToken, Task> resync, Func<TimeSpan> interval,
        Action<Exception, double> failed, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(resync);
        ArgumentNullException.ThrowIfNull(interval);
        ArgumentNullException.ThrowIfNull(failed);
        // The bus starts with the host, after the modules' services: ask once everything runs.
        if (!await lifetime.StartedAsync(stoppingToken).ConfigureAwait(false))
            return;
        var retry = FirstRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await resync(stoppingToken).ConfigureAwait(false);
                (wait, retry) = (interval(), FirstRetry);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                failed(ex, retry.TotalSeconds);
                (wait, retry) = (retry, TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, MaxRetry.Ticks)));
            }
            await Task.Delay(wait, time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
