using CloudPortal.Images.Data;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Images.Jobs;

/// <summary>
/// Renews a job's <see cref="JobLease"/> every <see cref="ImagesOptions.UploadHeartbeat"/> while the job works (a long
/// <c>qemu-img convert</c>, a slow download), on a DbContext of its own, since the job's is busy meanwhile.
/// </summary>
public sealed class Heartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private Heartbeat(IServiceScopeFactory scopes, Guid imageId, Guid holder, ImagesOptions options, TimeProvider time) =>
        _loop = BeatAsync(scopes, imageId, holder, options, time, _stop.Token);

    public static Heartbeat Start(IServiceScopeFactory scopes, Guid imageId, Guid holder, ImagesOptions options, TimeProvider time) => new(scopes, imageId, holder, options, time);

    private static async Task BeatAsync(IServiceScopeFactory scopes, Guid imageId, Guid holder, ImagesOptions options, TimeProvider time, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(options.UploadHeartbeat, time);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await JobLease.RenewAsync(scope.ServiceProvider.GetRequiredService<ImagesDbContext>(), imageId, holder, time.GetUtcNow().UtcDateTime, options.JobLease, stop);
            }
            catch (Exception) when (!stop.IsCancellationRequested)
            {
                // The database is briefly away: the lease is ten beats long, the next beat renews it.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
