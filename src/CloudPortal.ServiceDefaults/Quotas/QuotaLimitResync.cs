using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Modules;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>
/// Replaces one owner's cached limits with a snapshot from Identity (<see cref="GetQuotaLimits"/>) once the host has
/// started, and every <see cref="QuotaLimitCacheOptions.ResyncInterval"/>: an owner that was down, lost events to the
/// broker, or was deployed after the limits were set learns them without waiting for the next change. Until Identity
/// answers it retries, 1 s doubling to 1 min, and enforces what it has cached (or the built-in defaults).
/// </summary>
internal sealed partial class QuotaLimitResync<TContext>(
    IServiceScopeFactory scopes,
    IBus bus,
    QuotaLimitFeed<TContext> feed,
    IOptions<QuotaLimitCacheOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<QuotaLimitResync<TContext>> log) : BackgroundService
    where TContext : DbContext, IQuotaLimitStore
{
    private static readonly RequestTimeout RequestTimeout = RequestTimeout.After(s: 30);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Resync.RunAsync(lifetime, time, async cancellationToken =>
        {
            var (changed, resources) = await ResyncAsync(cancellationToken).ConfigureAwait(false);
            if (changed > 0)
                LogResynced(log, feed.Owner, changed, resources);
            else
                LogUnchanged(log, feed.Owner);
        },
        () => options.Value.ResyncInterval,
        (ex, seconds) =>
        {
            if (ex is RequestTimeoutException)
                LogNoAnswer(log, feed.Owner, RequestTimeout.Value.TotalSeconds, seconds);
            else
                LogResyncFailed(log, feed.Owner, seconds, ex);
        },
        stoppingToken);

    private async Task<(int Changed, int Resources)> ResyncAsync(CancellationToken cancellationToken)
    {
        var client = bus.CreateRequestClient<GetQuotaLimits>(RequestTimeout);
        var response = await client.GetResponse<QuotaLimitsSnapshot>(new GetQuotaLimits(feed.Resources), cancellationToken).ConfigureAwait(false);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var changed = await QuotaLimitCache.ApplySnapshotAsync(db, feed.Resources, response.Message, cancellationToken).ConfigureAwait(false);
        return (changed, feed.Resources.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Quota limits of {Owner} resynced from Identity: {Changed} cached limits of {Resources} resources changed")]
    private static partial void LogResynced(ILogger logger, string owner, int changed, int resources);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Quota limits of {Owner} resynced from Identity: no change")]
    private static partial void LogUnchanged(ILogger logger, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Identity did not answer {Owner}'s request for quota limits within {Timeout}s; retrying in {Seconds}s (until then {Owner} enforces the limits it has cached)")]
    private static partial void LogNoAnswer(ILogger logger, string owner, double timeout, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not resync the quota limits of {Owner} from Identity; retrying in {Seconds}s")]
    private static partial void LogResyncFailed(ILogger logger, string owner, double seconds, Exception exception);
}
