using System.Net;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Jobs;
using CloudPortal.Images.Storage;
using Hangfire;
using Hangfire.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Import;

/// <summary>
/// Imports an image from a URL: the same size cap, inspection and quota check as an upload. Redirects are
/// followed by hand, each hop checked by the same rules. Network failures and server errors are retried
/// (Hangfire, up to <see cref="ImagesOptions.JobAttempts"/>); a refused address, a client error, a refused
/// format or a size over the cap kill the image at once.
/// </summary>
public sealed class ImportImageJob(ImagesDbContext db, ImportGuard guard, IImageStore store, ImageIntake intake,
    IServiceScopeFactory scopes, IOptions<ImagesOptions> options, TimeProvider time, ILogger<ImportImageJob> logger)
{
    [AutomaticRetry(Attempts = 5, DelaysInSeconds = [1, 3, 10, 30, 60], OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [Queue(Jobs.ImageJobs.Queue)]
    public async Task RunAsync(Guid imageId, PerformContext? context, CancellationToken cancellationToken)
    {
        var image = await db.Images.SingleOrDefaultAsync(i => i.Id == imageId, cancellationToken);
        if (image is null || image.Status != ImageStatus.Saving || image.ImportUrl is null || image.SizeBytes is not null)
            return; // deleted meanwhile, or already done
        if (await JobLease.TryTakeAsync(db, imageId, time.GetUtcNow().UtcDateTime, options.Value.JobLease, cancellationToken) is not { } lease)
            return; // another job is importing it (a duplicate enqueued by the reaper)
        try
        {
            await ImportAsync(image, new Uri(image.ImportUrl), lease, cancellationToken);
        }
        finally
        {
            // Whatever the outcome (done, killed, or an attempt Hangfire retries); a no-op once intake has moved the
            // image on, since the conversion that may follow takes a lease of its own.
            await JobLease.ReleaseAsync(db, imageId, lease, time.GetUtcNow().UtcDateTime);
        }
    }

    private async Task ImportAsync(Image image, Uri url, Guid lease, CancellationToken cancellationToken)
    {
        var imageId = image.Id;
        await using var heartbeat = Heartbeat.Start(scopes, imageId, lease, options.Value, time);
        await db.Entry(image).ReloadAsync(cancellationToken);
        image.ImportAttempts++;
        image.ImportBytes = 0;
        image.ImportError = null;
        image.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        var attempt = image.ImportAttempts;

        try
        {
            var staged = await DownloadAsync(imageId, url, cancellationToken);
            await intake.CompleteAsync(imageId, staged, cancellationToken);
        }
        catch (ImportRefusedException refused)
        {
            logger.LogWarning("Import of image {ImageId} refused: {Reason}", imageId, refused.Detail);
            await intake.FailAsync(imageId, refused.Code, refused.Message, CancellationToken.None);
        }
        catch (ImageTooLargeException tooLarge)
        {
            await intake.FailAsync(imageId, "image_too_large", tooLarge.Message, CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = $"attempt {attempt}: {ex.Message}";
            if (attempt >= options.Value.JobAttempts)
            {
                logger.LogWarning("Import of image {ImageId} failed after {Attempts} attempts: {Reason}", imageId, attempt, ex.Message);
                await intake.FailAsync(imageId, "import_failed", $"The import failed after {attempt} attempts: {ex.Message}", CancellationToken.None);
                return;
            }
            logger.ImportRetry(imageId, reason);
            await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ImportError, reason.Length > 2048 ? reason[..2048] : reason), CancellationToken.None);
            throw;
        }
    }

    private async Task<StagedData> DownloadAsync(Guid imageId, Uri url, CancellationToken cancellationToken)
    {
        var allowList = await guard.AllowListAsync(cancellationToken);
        using var client = ImportGuard.CreateClient(allowList);
        var max = options.Value.MaxImageBytes;
        for (var hop = 0; ; hop++)
        {
            // Checked before connecting: a refused target never sees a connection.
            ImportGuard.CheckUrl(url);
            await ImportGuard.ResolveAllowedAsync(url.IdnHost, allowList, cancellationToken);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.UserAgent.ParseAdd("CloudPortal-Images/1.0");
            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException ex) when (ex.InnerException is ImportRefusedException refused)
            {
                throw refused;
            }
            using (response)
            {
                if ((int)response.StatusCode is 301 or 302 or 303 or 307 or 308)
                {
                    if (hop >= options.Value.ImportMaxRedirects)
                        throw new ImportRefusedException("import_too_many_redirects", $"The import URL redirected more than {options.Value.ImportMaxRedirects} times.");
                    var location = response.Headers.Location ?? throw new ImportRefusedException("import_http_error", "A redirect without a Location header.");
                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (url.Scheme == "https" && next.Scheme == "http")
                        throw new ImportRefusedException("import_insecure_redirect", "The import URL redirected from https to http.");
                    url = next;
                    continue;
                }
                if ((int)response.StatusCode >= 500)
                    throw new HttpRequestException($"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
                if (response.StatusCode != HttpStatusCode.OK)
                    throw new ImportRefusedException("import_http_error", $"The import URL answered {(int)response.StatusCode} {response.ReasonPhrase}.");

                var total = response.Content.Headers.ContentLength;
                if (total > max)
                    throw new ImageTooLargeException(max);
                await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ImportTotalBytes, total), cancellationToken);
                await using var body = new IdleTimeoutStream(await response.Content.ReadAsStreamAsync(cancellationToken), options.Value.ImportIdleTimeout);
                var lastReport = DateTime.UtcNow;
                var staged = await StreamingReceiver.ReceiveAsync(store, body, total, max, options.Value.Sha512, async received =>
                {
                    if (DateTime.UtcNow - lastReport < TimeSpan.FromSeconds(1))
                        return;
                    lastReport = DateTime.UtcNow;
                    var now = time.GetUtcNow().UtcDateTime;
                    await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s
                        .SetProperty(i => i.ImportBytes, received).SetProperty(i => i.UpdatedAt, now), cancellationToken);
                }, cancellationToken);
                await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.ImportBytes, staged.Size), CancellationToken.None);
                return staged;
            }
        }
    }
}

/// <summary>Fails a read that waits longer than the idle timeout for data (a stalled server).</summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan idle) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(idle);
        try
        {
            return await inner.ReadAsync(buffer, cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no data for {idle.TotalSeconds:0} s");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }
}
