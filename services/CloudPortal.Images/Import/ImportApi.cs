using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.Images.Jobs;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Images.Import;

public sealed record ImportImage(string? Url);

/// <summary>The allow-list: the entries from configuration first, then those added here.</summary>
public sealed record AllowedHostList(IReadOnlyList<string> Hosts);

/// <summary>URL import (a background job) and the admin's allow-list of internal hosts imports may reach.</summary>
public static class ImportApi
{
    public static RouteGroupBuilder MapImport(this RouteGroupBuilder api)
    {
        api.MapPost("/images/{imageId:guid}/import", Import)
            .WithSummary("Import an image's data from a URL")
            .WithDescription("A background job fetches `url` (http or https) into a `queued` image, then inspects it like an upload. " +
                "Loopback, link-local and private addresses are refused (`import_address_refused`) unless on the admins' allow-list; " +
                "the check is repeated before every connection and redirect. 202 with the image, now `saving`.")
            .Produces<ImageView>(StatusCodes.Status202Accepted)
            .ProducesProblems(400, 403, 404, 409);
        api.MapGet("/import-allowed-hosts", ListAllowed).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("List the internal hosts URL imports may reach")
            .WithDescription("Entries from configuration and from this API: host names, IP addresses and CIDR ranges.")
            .Produces<AllowedHostList>();
        api.MapPut("/import-allowed-hosts/{host}", Allow).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Allow URL imports to reach an internal host")
            .WithDescription("A host name, an IP address or a CIDR range (URL-encode the `/`). Idempotent.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400);
        api.MapDelete("/import-allowed-hosts/{host}", Disallow).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Remove a host from the import allow-list")
            .WithDescription("Entries from configuration cannot be removed here.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404);
        return api;
    }

    /// <summary>
    /// Checks the URL and its addresses now, so a refused target is reported at once and never contacted;
    /// the job checks again before every connection and every redirect.
    /// </summary>
    private static async Task<IResult> Import(Guid imageId, ImportImage body, HttpContext http, ImagesDbContext db, ImportGuard guard, ImageJobs jobs, TimeProvider time,
        ILogger<ImportImageJob> logger)
    {
        var (image, caller, project, problem) = await ImagesApi.FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        if (!Uri.TryCreate(body.Url, UriKind.Absolute, out var url))
            return Problems.BadRequest("invalid_import_url", "Invalid import URL", "'url' must be an absolute http:// or https:// URL.");
        if (image!.Status != ImageStatus.Queued)
            return Problems.Conflict("image_not_queued", "Image already has data", $"Only a queued image can be imported into; this one is {ImageView.Lower(image.Status)}.");
        try
        {
            await guard.ResolveAllowedAsync(url, http.RequestAborted);
        }
        catch (ImportRefusedException refused)
        {
            logger.LogWarning("Import into image {ImageId} refused: {Reason}", imageId, refused.Detail);
            return Problems.BadRequest(refused.Code, "Import refused", refused.Message);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var claimed = await db.Images.Where(i => i.Id == imageId && i.Status == ImageStatus.Queued)
            .ExecuteUpdateAsync(s => s
                .SetProperty(i => i.Status, ImageStatus.Saving)
                .SetProperty(i => i.ImportUrl, url.ToString())
                .SetProperty(i => i.ImportBytes, 0L)
                .SetProperty(i => i.ImportTotalBytes, (long?)null)
                .SetProperty(i => i.ImportAttempts, 0)
                .SetProperty(i => i.ImportError, (string?)null)
                .SetProperty(i => i.UpdatedAt, now), http.RequestAborted);
        if (claimed == 0)
            return Problems.Conflict("image_not_queued", "Image already has data", "Another upload or import of the image started first.");
        try
        {
            jobs.EnqueueImport(imageId);
        }
        catch (Exception ex)
        {
            // The image is recorded as importing: the reaper finds it without a job and enqueues it (JobLease).
            logger.EnqueueFailed(imageId, "import", ex.Message);
        }
        var updated = await db.Images.AsNoTracking().SingleAsync(i => i.Id == imageId, http.RequestAborted);
        return TypedResults.Accepted($"/images/v2/images/{imageId}", await ImagesApi.ViewAsync(db, updated, ImagesApi.OwnerView(caller, project, updated), http.RequestAborted));
    }

    private static async Task<IResult> ListAllowed(ImportGuard guard, HttpContext http) =>
        TypedResults.Ok(new AllowedHostList(await guard.AllowListAsync(http.RequestAborted)));

    private static async Task<IResult> Allow(string host, HttpContext http, ImagesDbContext db, TimeProvider time)
    {
        if (!AddressFilter.IsValidEntry(host))
            return Problems.BadRequest("invalid_host", "Invalid host", "Give a host name, an IP address or a CIDR range (URL-encode the '/').");
        if (!await db.ImportAllowedHosts.AnyAsync(h => h.Host == host, http.RequestAborted))
        {
            db.ImportAllowedHosts.Add(new ImportAllowedHost { Host = host, AddedAt = time.GetUtcNow().UtcDateTime, AddedBy = Caller.From(http).Name });
            await db.SaveChangesAsync(http.RequestAborted);
        }
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Disallow(string host, HttpContext http, ImagesDbContext db)
    {
        var removed = await db.ImportAllowedHosts.Where(h => h.Host == host).ExecuteDeleteAsync(http.RequestAborted);
        return removed == 0
            ? Problems.NotFound("allowed_host_not_found", "Not on the allow-list", $"'{host}' is not on the API's allow-list (entries from configuration cannot be removed here).")
            : TypedResults.NoContent();
    }
}
