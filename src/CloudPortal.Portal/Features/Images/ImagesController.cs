using System.ComponentModel.DataAnnotations;
using CloudPortal.Images.Catalog;
using CloudPortal.Images.Sharing;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.Images;

public sealed record ImageListModel(string Tab, IReadOnlyList<ImageView> Images, IReadOnlyList<ImageView> Pending, bool CanChange);

public sealed record ImageDetailModel(ImageView Image, IReadOnlyList<MemberView> Members, bool Owned, bool CanChange, MemberView? MyMembership);

public sealed class NewImageForm
{
    [Required(ErrorMessage = "Give the image a name."), StringLength(255)]
    public string? Name { get; set; }

    public string? DiskFormat { get; set; }

    public int MinRamMb { get; set; }

    public int MinDiskGb { get; set; }

    /// <summary>Import from this URL instead of uploading a file.</summary>
    [Url(ErrorMessage = "The import URL must be an http or https URL.")]
    public string? ImportUrl { get; set; }
}

/// <summary>
/// The image catalog as the project sees it (mine, shared with me, community, public); creating an image and
/// uploading its bytes from the browser (streamed through the portal to Images) or importing it from a URL;
/// one image with its checksums, refusal reason and members.
/// </summary>
public sealed class ImagesController : PortalController
{
    public static readonly string[] Tabs = ["mine", "shared", "community", "public"];

    [HttpGet("/images")]
    public async Task<IActionResult> Index(string tab = "mine", CancellationToken cancellationToken = default)
    {
        tab = Tabs.Contains(tab) ? tab : "mine";
        var query = tab switch
        {
            "mine" => $"owner={Projects.CurrentId}",
            "shared" => "visibility=shared&member_status=accepted",
            _ => $"visibility={tab}",
        };
        var images = await Api.GetAsync<ImagePage>("images", $"images/v2/images?{query}&limit=1000", cancellationToken);
        var pending = tab == "shared"
            ? (await Api.GetAsync<ImagePage>("images", "images/v2/images?visibility=shared&member_status=pending&limit=1000", cancellationToken)).Images
            : [];
        var list = tab == "shared" ? images.Images.Where(i => i.Owner != Projects.CurrentId).ToList() : images.Images;
        return View(new ImageListModel(tab, list, pending.Where(i => i.Owner != Projects.CurrentId).ToList(), Projects.CanChange));
    }

    [HttpGet("/images/new")]
    public IActionResult New() => View(new NewImageForm());

    /// <summary>Creates the record; the browser then uploads the file to it (the details page), or Images starts the import.</summary>
    [HttpPost("/images/new")]
    public async Task<IActionResult> Create([FromForm] NewImageForm form, CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
            return View("New", form);
        try
        {
            var image = await Api.SendAsync<ImageView>(HttpMethod.Post, "images", "images/v2/images", new
            {
                name = form.Name, diskFormat = string.IsNullOrWhiteSpace(form.DiskFormat) ? null : form.DiskFormat, containerFormat = "bare",
                minRamMb = form.MinRamMb, minDiskGb = form.MinDiskGb,
            }, cancellationToken);
            if (!string.IsNullOrWhiteSpace(form.ImportUrl))
            {
                await Api.SendAsync(HttpMethod.Post, "images", $"images/v2/images/{image.Id}/import", new { url = form.ImportUrl }, cancellationToken);
                return Done("Import started.", "Details", new { id = image.Id });
            }
            return RedirectToAction("Details", new { id = image.Id, upload = true });
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 403 or 409)
        {
            Refused(refusal);
            return View("New", form);
        }
    }

    /// <summary>
    /// The browser's upload, streamed to Images as it arrives (no buffering here): the answer is what Images says,
    /// as JSON the page's script reads (<c>{message}</c> on a refusal).
    /// </summary>
    [HttpPut("/images/{id:guid}/file"), DisableRequestSizeLimit, RequestFormLimits(MultipartBodyLengthLimit = long.MaxValue)]
    public async Task<IActionResult> Upload(Guid id, CancellationToken cancellationToken)
    {
        var content = new StreamContent(Request.Body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        if (Request.ContentLength is { } length)
            content.Headers.ContentLength = length;
        try
        {
            using var response = await Api.SendRawAsync(HttpMethod.Put, "images", $"images/v2/images/{id}/file", content, cancellationToken, Timeout.InfiniteTimeSpan);
            return Json(new { status = (int)response.StatusCode });
        }
        catch (ApiException refusal)
        {
            return StatusCode(refusal.Status, new { code = refusal.Code, message = refusal.Message });
        }
    }

    [HttpGet("/images/{id:guid}")]
    public async Task<IActionResult> Details(Guid id, bool upload, bool partial, CancellationToken cancellationToken)
    {
        var image = await Api.FindAsync<ImageView>("images", $"images/v2/images/{id}", cancellationToken);
        if (image is null)
            return NotFoundPage();
        var owned = image.Owner == Projects.CurrentId;
        IReadOnlyList<MemberView> members = [];
        MemberView? mine = null;
        if (image.Visibility == "shared")
        {
            try
            {
                members = (await Api.GetAsync<MemberPage>("images", $"images/v2/images/{id}/members?limit=1000", cancellationToken)).Members;
                mine = owned ? null : members.FirstOrDefault(m => m.Member == Projects.CurrentId);
            }
            catch (ApiException refusal) when (refusal.Status is 403 or 404)
            {
                // Not the owner nor a member: no members to show.
            }
        }
        ViewData["upload"] = upload && image.Status == "queued";
        var model = new ImageDetailModel(image, members, owned, Projects.CanChange, mine);
        return partial ? PartialView("_Detail", model) : View(model);
    }

    [HttpPost("/images/{id:guid}/{operation:regex(^(deactivate|reactivate|protect|unprotect|delete|share|unshare|accept|reject)$)}")]
    public async Task<IActionResult> Change(Guid id, string operation, [FromForm] Guid? project, [FromForm] string? visibility, CancellationToken cancellationToken)
    {
        try
        {
            switch (operation)
            {
                case "deactivate" or "reactivate":
                    await Api.SendAsync(HttpMethod.Post, "images", $"images/v2/images/{id}/actions/{operation}", null, cancellationToken);
                    break;
                case "protect" or "unprotect":
                    await Api.SendAsync(HttpMethod.Patch, "images", $"images/v2/images/{id}", new { @protected = operation == "protect" }, cancellationToken);
                    break;
                case "delete":
                    await Api.SendAsync(HttpMethod.Delete, "images", $"images/v2/images/{id}", null, cancellationToken);
                    return Done("Image deleted.", "Index");
                case "share":
                    if (visibility is not null)
                        await Api.SendAsync(HttpMethod.Patch, "images", $"images/v2/images/{id}", new { visibility }, cancellationToken);
                    if (project is { } member)
                        await Api.SendAsync(HttpMethod.Post, "images", $"images/v2/images/{id}/members", new { member }, cancellationToken);
                    break;
                case "unshare" when project is { } removed:
                    await Api.SendAsync(HttpMethod.Delete, "images", $"images/v2/images/{id}/members/{removed}", null, cancellationToken);
                    break;
                case "accept" or "reject":
                    await Api.SendAsync(HttpMethod.Put, "images", $"images/v2/images/{id}/members/{Projects.CurrentId}",
                        new { status = operation == "accept" ? "accepted" : "rejected" }, cancellationToken);
                    break;
            }
            return Done($"Done: {operation}.", "Details", new { id });
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 403 or 409)
        {
            return Done(refusal.Message, "Details", new { id });
        }
    }
}
