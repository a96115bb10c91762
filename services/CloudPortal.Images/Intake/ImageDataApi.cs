using System.Globalization;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Launch;
using CloudPortal.Images.Storage;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CloudPortal.Images.Intake;

/// <summary>Image data: streaming upload, tenant download, and the download compute nodes use (signed URLs, Range, checksum headers).</summary>
public static class ImageDataApi
{
    public const string Sha256Header = "CloudPortal-Checksum-Sha256";
    public const string Sha512Header = "CloudPortal-Checksum-Sha512";
    public const string FormatHeader = "CloudPortal-Disk-Format";

    public static RouteGroupBuilder MapImageData(this RouteGroupBuilder api)
    {
        api.MapPut("/images/{imageId:guid}/file", Upload)
            .WithSummary("Upload an image's data")
            .WithDescription("The raw bytes as the body, with `Content-Length` or chunked, into a `queued` image. The data is inspected " +
                "(format from the bytes, no backing or data files): 204 when the image is active, 202 when a conversion to qcow2 follows (VMDK, VHD, VHDX; qcow2 and raw are active at once), " +
                "400 with the refusal code when the data is refused (the image is killed), 409 over quota or when the image is not queued, " +
                "413 over the size cap. An interrupted upload puts the image back to `queued`.")
            .Accepts<Stream>("application/octet-stream")
            .Produces(StatusCodes.Status204NoContent).Produces(StatusCodes.Status202Accepted)
            .ProducesProblems(400, 403, 404, 409, 413);
        api.MapGet("/images/{imageId:guid}/file", Download)
            .WithSummary("Download an image's data as uploaded")
            .WithDescription($"Headers `{Sha256Header}`, `{Sha512Header}`, `{FormatHeader}`, `Repr-Digest` and a strong `ETag` (the SHA-256); " +
                "`Range` and `If-Range` are honoured (206).")
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream").Produces<Stream>(StatusCodes.Status206PartialContent, "application/octet-stream")
            .ProducesProblems(400, 403, 404, 409, 503);
        // Compute nodes hold no token: the signed URL is their credential, so this route checks one or the other itself.
        api.MapGet("/images/{imageId:guid}/compute-file", DownloadForCompute).AllowAnonymous()
            .WithSummary("Download the copy compute agents boot from")
            .WithDescription($"Opened by the signed, expiring URL Images gives Compute for a launch (`expires`, `signature`), or by a cloud admin or service token: compute nodes hold no token of their own. The data in the compute backend's format (qcow2 after a conversion, else the original: qcow2 or raw) of an active image. " +
                $"`{Sha256Header}` and the strong `ETag` are that copy's SHA-256, so an agent verifies what it cached and resumes with `Range` + `If-Range` (206).")
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream").Produces<Stream>(StatusCodes.Status206PartialContent, "application/octet-stream")
            .ProducesProblems(401, 403, 404, 409, 503);
        return api;
    }

    private static async Task<IResult> Upload(Guid imageId, HttpContext http, ImagesDbContext db, IImageStore store, ImageIntake intake,
        IOptions<ImagesOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        var (image, _, _, problem) = await ImagesApi.FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        var max = options.Value.MaxImageBytes;
        var length = http.Request.ContentLength;
        if (length > max)
            return TooLarge(max);
        if (image!.Status != ImageStatus.Queued)
            return NotQueued(image.Status);

        // Queued → saving, once: a concurrent upload or import of the same image loses here.
        var now = time.GetUtcNow().UtcDateTime;
        var claimed = await db.Images.Where(i => i.Id == imageId && i.Status == ImageStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.Saving).SetProperty(i => i.UpdatedAt, now)
                .SetProperty(i => i.FailureCode, (string?)null).SetProperty(i => i.FailureReason, (string?)null), http.RequestAborted);
        if (claimed == 0)
            return NotQueued(ImageStatus.Saving);

        // Kestrel's own body limit would cut uploads at 30 MB; the cap is enforced while streaming instead.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            bodyLimit.MaxRequestBodySize = null;

        StagedData staged;
        var lastBeat = DateTime.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            staged = await StreamingReceiver.ReceiveAsync(store, http.Request.Body, length, max, options.Value.Sha512, async _ =>
            {
                // A heartbeat, so an upload whose process died can be told from a slow one.
                if (DateTime.UtcNow - lastBeat < options.Value.UploadHeartbeat)
                    return;
                lastBeat = DateTime.UtcNow;
                var beat = time.GetUtcNow().UtcDateTime;
                await db.Images.Where(i => i.Id == imageId).ExecuteUpdateAsync(s => s.SetProperty(i => i.UpdatedAt, beat), CancellationToken.None);
            }, http.RequestAborted);
        }
        catch (ImageTooLargeException)
        {
            await intake.RequeueAsync(imageId, CancellationToken.None);
            return TooLarge(max);
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client went away (or sent less than it announced): nothing was stored, the image is queued again.
            loggers.CreateLogger(typeof(ImageDataApi)).UploadInterrupted(imageId, ex.Message);
            await intake.RequeueAsync(imageId, CancellationToken.None);
            return http.RequestAborted.IsCancellationRequested
                ? TypedResults.Empty
                : Problems.BadRequest("upload_incomplete", "Upload incomplete", $"The upload ended early: {ex.Message}");
        }

        var received = clock.Elapsed;
        var outcome = await intake.CompleteAsync(imageId, staged, CancellationToken.None);
        loggers.CreateLogger(typeof(ImageDataApi)).UploadTimings(imageId, staged.Size, received.TotalSeconds, (clock.Elapsed - received).TotalSeconds);
        return outcome.Result switch
        {
            IntakeResult.Active => TypedResults.NoContent(),
            IntakeResult.Converting => TypedResults.Accepted($"/images/v2/images/{imageId}"),
            IntakeResult.Refused => Problems.BadRequest(outcome.Code!, "Image refused", outcome.Reason),
            IntakeResult.OverQuota => Problems.Conflict(outcome.Code!, "Quota exceeded", outcome.Reason),
            _ => Problems.Conflict("image_not_saving", "Image changed during the upload", "The image was deleted while its data arrived; the data was discarded."),
        };
    }

    private static async Task<IResult> Download(Guid imageId, HttpContext http, ImagesDbContext db, IImageStore store)
    {
        var caller = Caller.From(http);
        if (ImageAccess.ActingProject(caller, out var project) is { } projectProblem)
            return projectProblem;
        var image = await ImageAccess.Visible(db, caller, project).AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, http.RequestAborted);
        if (image is null)
            return ImageAccess.NotFound(imageId);
        if (await ImageAccess.CanDownloadAsync(db, caller, project, image, http.RequestAborted) is { } problem)
            return problem;
        http.Response.Headers[Sha512Header] = image.Sha512;
        http.Response.Headers[FormatHeader] = image.DiskFormat;
        return Serve(http, store, image, ImageFileKind.Original, image.Sha256!);
    }

    /// <summary>
    /// For compute nodes: the copy in the backend's format, with its SHA-256 in a header and as the strong ETag, and
    /// Range support, so a node can verify what it cached and resume (<c>Range</c> + <c>If-Range</c>) after an
    /// interruption. Admitted with a signed URL from <see cref="Launch.GetLaunchImageConsumer"/> (anonymous: the
    /// signature is the credential) or a cloud admin or service bearer token.
    /// </summary>
    private static async Task<IResult> DownloadForCompute(Guid imageId, string? expires, string? signature, HttpContext http, ImagesDbContext db,
        IImageStore store, DownloadSigner signer, IAuthorizationService authorization, TimeProvider time)
    {
        var trusted = (await authorization.AuthorizeAsync(http.User, CloudPolicies.CloudAdminOrService)).Succeeded;
        if (!trusted && expires is null && signature is null)
        {
            if (http.User.Identity?.IsAuthenticated == true)
                return Problems.Forbidden("forbidden", "Signed URL or service token required", "Compute nodes fetch this with the signed URL Compute gives them; cloud admins and services with their token.");
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Of(StatusCodes.Status401Unauthorized, "unauthenticated", "Signed URL or token required",
                $"Use the signed URL (with '{DownloadSigner.ExpiresParameter}' and '{DownloadSigner.SignatureParameter}') Compute gives compute nodes, or a cloud admin or service bearer token.");
        }
        var image = await db.Images.AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId && i.Status != ImageStatus.Deleted, http.RequestAborted);
        if (!trusted)
        {
            // Checked before anything about the image is said: without a genuine URL nobody learns whether it exists.
            switch (signer.Verify(imageId, image?.ComputeSha256, expires, signature, time.GetUtcNow()))
            {
                case DownloadSignature.Invalid:
                    return Problems.Forbidden("invalid_download_signature", "Invalid download signature",
                        "The URL's signature does not match this image and its current data: the URL was altered, or the image changed or was deleted since it was issued.");
                case DownloadSignature.Expired:
                    return Problems.Forbidden("download_url_expired", "Download URL expired",
                        $"The URL expired at {DateTimeOffset.FromUnixTimeSeconds(long.Parse(expires!, CultureInfo.InvariantCulture)):yyyy-MM-ddTHH:mm:ssZ}; ask for a new one.");
            }
        }
        if (image is null)
            return ImageAccess.NotFound(imageId);
        if (image.Status != ImageStatus.Active || image.ComputeSha256 is null)
            return Problems.Conflict("image_not_active", "Image not active", $"The image is {ImageView.Lower(image.Status)}; compute nodes can fetch active images only.");
        http.Response.Headers[FormatHeader] = image.ComputeFormat;
        var kind = image.ComputeFormat == image.DiskFormat && image.ComputeSha256 == image.Sha256 ? ImageFileKind.Original : ImageFileKind.Compute;
        return Serve(http, store, image, kind, image.ComputeSha256);
    }

    private static IResult Serve(HttpContext http, IImageStore store, Image image, ImageFileKind kind, string sha256)
    {
        var stream = store.OpenRead(image.Id, kind);
        if (stream is null)
            return Problems.Of(StatusCodes.Status503ServiceUnavailable, "image_data_missing", "Image data missing", "The image's data is not in the store; tell an operator.");
        http.Response.Headers[Sha256Header] = sha256;
        http.Response.Headers["Repr-Digest"] = $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(sha256))}:";
        return TypedResults.Stream(stream, "application/octet-stream", lastModified: new DateTimeOffset(image.UpdatedAt, TimeSpan.Zero),
            entityTag: new EntityTagHeaderValue($"\"{sha256}\""), enableRangeProcessing: true);
    }

    private static IResult TooLarge(long max) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "image_too_large", "Image too large", $"Images are limited to {max} bytes.");

    private static IResult NotQueued(ImageStatus status) =>
        Problems.Conflict("image_not_queued", "Image already has data", $"Data can be uploaded only to a queued image; this one is {ImageView.Lower(status)}.");
}
