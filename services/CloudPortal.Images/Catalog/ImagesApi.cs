using System.Text.Json;
using CloudPortal.Images.Data;
using CloudPortal.Images.Inspection;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Quotas;
using CloudPortal.Images.Sharing;
using CloudPortal.Images.Storage;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Catalog;

public sealed record CreateImage(
    string? Name, string? DiskFormat, string? ContainerFormat, string? Visibility, bool? Protected,
    int? MinRamMb, int? MinDiskGb, List<string>? Tags, Dictionary<string, string>? Properties);

/// <summary>Every field optional; <c>properties</c> merge (a null value removes a key); <c>tags</c> replace.</summary>
public sealed record UpdateImage(
    string? Name, string? DiskFormat, string? ContainerFormat, string? Visibility, bool? Protected,
    int? MinRamMb, int? MinDiskGb, List<string>? Tags, Dictionary<string, string?>? Properties);

/// <summary>The image catalog: records, listing, updates, state changes and deletion.</summary>
public static class ImagesApi
{
    public const int DefaultPageSize = 25;
    public const int MaxPageSize = 1000;
    private const int MaxTags = 128;
    private const int MaxPropertiesJson = 65536;

    public static RouteGroupBuilder MapImages(this RouteGroupBuilder api)
    {
        api.MapPost("/images", Create).RequireAuthorization(CloudPolicies.Member)
            .WithSummary("Create an image record")
            .WithDescription("A `queued` record in the acting project, owned by it; upload (`PUT .../file`) or import its data next. " +
                "Only cloud admins create `public` images. Counts against the project's `images` quota.")
            .Produces<ImageView>(StatusCodes.Status201Created)
            .ProducesProblems(400, 403, 409);
        api.MapGet("/images", List)
            .WithSummary("List the images the caller may use")
            .WithDescription("Newest first (`sort_dir=asc` for oldest first). Filters: `name`, `status`, `visibility`, `disk_format`, " +
                "`container_format`, `owner`, `tag` (repeat it: all must match), `protected`, `size_min`, `size_max`, `member_status` " +
                "(`accepted` default, `pending`, `rejected`, `all`; shared images only). Paging: `limit` (1-1000, default 25) and " +
                "`marker` (the last id seen); `next` is the URL of the next page, null on the last.")
            .Produces<ImagePage>()
            .ProducesProblems(400, 403);
        api.MapGet("/images/{imageId:guid}", Show)
            .WithSummary("Show an image")
            .Produces<ImageView>()
            .ProducesProblems(400, 403, 404);
        api.MapPatch("/images/{imageId:guid}", Update)
            .WithSummary("Change an image's fields")
            .WithDescription("Every field is optional. `properties` merge (a null value removes a key), `tags` replace; " +
                "formats change only while the image is `queued`.")
            .Produces<ImageView>()
            .ProducesProblems(400, 403, 404, 409);
        api.MapDelete("/images/{imageId:guid}", Delete)
            .WithSummary("Delete an image and its data")
            .WithDescription("Refused with `image_protected` while `protected` is set.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 403, 404, 409);
        api.MapPost("/images/{imageId:guid}/actions/deactivate", Deactivate)
            .WithSummary("Deactivate an active image")
            .WithDescription("The record stays visible; its data cannot be downloaded (except by cloud admins) until it is reactivated.")
            .Produces<ImageView>()
            .ProducesProblems(400, 403, 404, 409);
        api.MapPost("/images/{imageId:guid}/actions/reactivate", Reactivate)
            .WithSummary("Reactivate a deactivated image")
            .Produces<ImageView>()
            .ProducesProblems(400, 403, 404, 409);
        api.MapPut("/images/{imageId:guid}/tags/{tag}", AddTag)
            .WithSummary("Add a tag to an image")
            .WithDescription($"Idempotent. A tag is 1-255 characters; an image has at most {MaxTags}.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 403, 404);
        api.MapDelete("/images/{imageId:guid}/tags/{tag}", RemoveTag)
            .WithSummary("Remove a tag from an image")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 403, 404);
        return api;
    }

    private static async Task<IResult> Create(CreateImage body, HttpContext http, ImagesDbContext db, ImageUsageReporter usage, TimeProvider time)
    {
        var caller = Caller.From(http);
        var project = caller.ProjectId!.Value;
        var name = body.Name?.Trim() ?? "";
        if (name.Length is 0 or > 255)
            return Problems.BadRequest("invalid_image_name", "Invalid image name", "An image name is 1-255 characters.");
        if (ValidateFormats(body.DiskFormat, body.ContainerFormat) is { } formatProblem)
            return formatProblem;
        var visibility = ImageVisibility.Private;
        if (body.Visibility is not null && ParseVisibility(body.Visibility, out visibility) is { } visibilityProblem)
            return visibilityProblem;
        if (visibility == ImageVisibility.Public && !caller.IsCloudAdmin)
            return PublicRequiresAdmin();
        if ((ValidateRequirements(body.MinRamMb, body.MinDiskGb) ?? ValidateTags(body.Tags) ?? ValidateProperties(body.Properties)) is { } problem)
            return problem;

        var now = time.GetUtcNow().UtcDateTime;
        var image = new Image
        {
            Id = Guid.CreateVersion7(),
            OwnerProjectId = project,
            Name = name,
            Status = ImageStatus.Queued,
            Visibility = visibility,
            Protected = body.Protected ?? false,
            DiskFormat = body.DiskFormat,
            ContainerFormat = body.ContainerFormat ?? "bare",
            MinRamMb = body.MinRamMb ?? 0,
            MinDiskGb = body.MinDiskGb ?? 0,
            Properties = body.Properties ?? [],
            CreatedBy = caller.UserId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var tags = (body.Tags ?? []).Distinct(StringComparer.Ordinal).ToList();

        await using (var transaction = await db.LockProjectAsync(project, http.RequestAborted))
        {
            try
            {
                await ImageQuotas.EnsureCanCreateAsync(db, project, http.RequestAborted);
            }
            catch (QuotaExceededException exceeded)
            {
                return Problems.Conflict(ImageIntake.QuotaCode(exceeded.Resource), "Quota exceeded", exceeded.Message);
            }
            db.Images.Add(image);
            db.ImageTags.AddRange(tags.Select(t => new ImageTag { ImageId = image.Id, Tag = t }));
            await db.SaveChangesAsync(http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
        }
        usage.Touch(project);
        return TypedResults.Created($"/images/v2/images/{image.Id}", ImageView.Of(image, tags, ownerView: true));
    }

    private static async Task<IResult> List(HttpContext http, ImagesDbContext db,
        string? name, string? status, string? visibility, string? disk_format, string? container_format, Guid? owner,
        string[]? tag, bool? @protected, string? member_status, long? size_min, long? size_max, int? limit, Guid? marker, string? sort_dir)
    {
        var caller = Caller.From(http);
        if (ImageAccess.ActingProject(caller, out var project) is { } projectProblem)
            return projectProblem;
        var pageSize = limit ?? DefaultPageSize;
        if (pageSize is < 1 or > MaxPageSize)
            return Problems.BadRequest("invalid_limit", "Invalid limit", $"'limit' is 1-{MaxPageSize}.");
        MemberStatus? memberStatus = null;
        var anyMemberStatus = false;
        if (member_status is not null)
        {
            if (member_status == "all")
                anyMemberStatus = true;
            else if (!Enum.TryParse<MemberStatus>(member_status, ignoreCase: true, out var parsed) || int.TryParse(member_status, out _))
                return Problems.BadRequest("invalid_member_status", "Invalid member status", "'member_status' is pending, accepted, rejected or all.");
            else
                memberStatus = parsed;
        }
        var query = ImageAccess.Visible(db, caller, project, memberStatus, anyMemberStatus).AsNoTracking();
        if (name is not null)
            query = query.Where(i => i.Name == name);
        if (status is not null)
        {
            if (!Enum.TryParse<ImageStatus>(status, ignoreCase: true, out var s) || int.TryParse(status, out _))
                return Problems.BadRequest("invalid_status", "Invalid status", "'status' is queued, saving, active, killed or deactivated.");
            query = query.Where(i => i.Status == s);
        }
        if (visibility is not null)
        {
            if (ParseVisibility(visibility, out var v) is { } problem)
                return problem;
            query = query.Where(i => i.Visibility == v);
        }
        if (disk_format is not null)
            query = query.Where(i => i.DiskFormat == disk_format);
        if (container_format is not null)
            query = query.Where(i => i.ContainerFormat == container_format);
        if (owner is not null)
            query = query.Where(i => i.OwnerProjectId == owner);
        foreach (var t in tag ?? [])
            query = query.Where(i => db.ImageTags.Any(x => x.ImageId == i.Id && x.Tag == t));
        if (@protected is not null)
            query = query.Where(i => i.Protected == @protected);
        if (size_min is not null)
            query = query.Where(i => i.SizeBytes >= size_min);
        if (size_max is not null)
            query = query.Where(i => i.SizeBytes <= size_max);

        var ascending = sort_dir switch
        {
            null or "desc" => false,
            "asc" => true,
            _ => (bool?)null,
        };
        if (ascending is null)
            return Problems.BadRequest("invalid_sort", "Invalid sort direction", "'sort_dir' is asc or desc (images sort by creation).");
        if (marker is not null)
        {
            var at = await db.Images.AsNoTracking().Where(i => i.Id == marker).Select(i => (long?)i.Sequence).SingleOrDefaultAsync(http.RequestAborted);
            if (at is null)
                return Problems.BadRequest("invalid_marker", "Invalid marker", $"No image {marker} to page from.");
            query = ascending.Value ? query.Where(i => i.Sequence > at) : query.Where(i => i.Sequence < at);
        }
        query = ascending.Value ? query.OrderBy(i => i.Sequence) : query.OrderByDescending(i => i.Sequence);
        var page = await query.Take(pageSize + 1).ToListAsync(http.RequestAborted);
        var more = page.Count > pageSize;
        if (more)
            page.RemoveAt(page.Count - 1);
        var ids = page.Select(i => i.Id).ToList();
        var tags = (await db.ImageTags.AsNoTracking().Where(t => ids.Contains(t.ImageId)).ToListAsync(http.RequestAborted))
            .ToLookup(t => t.ImageId, t => t.Tag);
        var views = page.Select(i => ImageView.Of(i, tags[i.Id].Order(StringComparer.Ordinal).ToList(), OwnerView(caller, project, i))).ToList();
        string? next = null;
        if (more)
        {
            var query2 = QueryString.Create(http.Request.Query
                .Where(q => q.Key is not ("marker" or "limit"))
                .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                .Append(new("limit", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .Append(new("marker", page[^1].Id.ToString())));
            next = "/images/v2/images" + query2.ToUriComponent();
        }
        return TypedResults.Ok(new ImagePage(views, next));
    }

    private static async Task<IResult> Show(Guid imageId, HttpContext http, ImagesDbContext db)
    {
        var caller = Caller.From(http);
        if (ImageAccess.ActingProject(caller, out var project) is { } projectProblem)
            return projectProblem;
        var image = await ImageAccess.Visible(db, caller, project).AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, http.RequestAborted);
        return image is null ? ImageAccess.NotFound(imageId) : TypedResults.Ok(await ViewAsync(db, image, OwnerView(caller, project, image), http.RequestAborted));
    }

    private static async Task<IResult> Update(Guid imageId, UpdateImage body, HttpContext http, ImagesDbContext db, TimeProvider time)
    {
        var (image, caller, project, problem) = await FindForChangeAsync(imageId, http, db, tracked: true);
        if (problem is not null)
            return problem;
        if (body.Name is not null)
        {
            var name = body.Name.Trim();
            if (name.Length is 0 or > 255)
                return Problems.BadRequest("invalid_image_name", "Invalid image name", "An image name is 1-255 characters.");
            image!.Name = name;
        }
        if (body.DiskFormat is not null || body.ContainerFormat is not null)
        {
            if (image!.Status != ImageStatus.Queued)
                return Problems.Conflict("image_not_queued", "Image has data", "Disk and container formats can change only before data arrives.");
            if (ValidateFormats(body.DiskFormat, body.ContainerFormat) is { } formatProblem)
                return formatProblem;
            image.DiskFormat = body.DiskFormat ?? image.DiskFormat;
            image.ContainerFormat = body.ContainerFormat ?? image.ContainerFormat;
        }
        if (body.Visibility is not null)
        {
            if (ParseVisibility(body.Visibility, out var visibility) is { } visibilityProblem)
                return visibilityProblem;
            if (visibility == ImageVisibility.Public && image!.Visibility != ImageVisibility.Public && !caller.IsCloudAdmin)
                return PublicRequiresAdmin();
            image!.Visibility = visibility;
        }
        if ((ValidateRequirements(body.MinRamMb, body.MinDiskGb) ?? ValidateTags(body.Tags)) is { } p)
            return p;
        if (body.Protected is { } isProtected)
            image!.Protected = isProtected;
        if (body.MinRamMb is { } ram)
            image!.MinRamMb = ram;
        if (body.MinDiskGb is { } disk)
            image!.MinDiskGb = disk;
        if (body.Properties is not null)
        {
            var merged = new Dictionary<string, string>(image!.Properties);
            foreach (var (key, value) in body.Properties)
            {
                if (value is null)
                    merged.Remove(key);
                else
                    merged[key] = value;
            }
            if (ValidateProperties(merged) is { } propertiesProblem)
                return propertiesProblem;
            image.Properties = merged;
        }
        if (body.Tags is not null)
        {
            db.ImageTags.RemoveRange(await db.ImageTags.Where(t => t.ImageId == imageId).ToListAsync(http.RequestAborted));
            db.ImageTags.AddRange(body.Tags.Distinct(StringComparer.Ordinal).Select(t => new ImageTag { ImageId = imageId, Tag = t }));
        }
        image!.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(db, image, OwnerView(caller, project, image), http.RequestAborted));
    }

    private static async Task<IResult> Delete(Guid imageId, HttpContext http, ImagesDbContext db, IImageStore store, ImageUsageReporter usage, TimeProvider time)
    {
        var (image, _, _, problem) = await FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        if (image!.Protected)
            return Problems.Conflict("image_protected", "Image is protected", "Unset 'protected' before deleting the image.");
        await using (var transaction = await db.LockProjectAsync(image.OwnerProjectId, http.RequestAborted))
        {
            var now = time.GetUtcNow().UtcDateTime;
            var deleted = await db.Images.Where(i => i.Id == imageId && i.Status != ImageStatus.Deleted && !i.Protected)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.Deleted).SetProperty(i => i.DeletedAt, now).SetProperty(i => i.UpdatedAt, now), http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
            if (deleted == 0)
                return ImageAccess.NotFound(imageId);
        }
        usage.Touch(image.OwnerProjectId);
        await store.DeleteAsync(imageId, CancellationToken.None);
        return TypedResults.NoContent();
    }

    private static Task<IResult> Deactivate(Guid imageId, HttpContext http, ImagesDbContext db, TimeProvider time) =>
        ChangeStateAsync(imageId, http, db, time, ImageStatus.Deactivated);

    private static Task<IResult> Reactivate(Guid imageId, HttpContext http, ImagesDbContext db, TimeProvider time) =>
        ChangeStateAsync(imageId, http, db, time, ImageStatus.Active);

    private static async Task<IResult> ChangeStateAsync(Guid imageId, HttpContext http, ImagesDbContext db, TimeProvider time, ImageStatus target)
    {
        var (image, caller, project, problem) = await FindForChangeAsync(imageId, http, db, tracked: true);
        if (problem is not null)
            return problem;
        if (image!.Status is not (ImageStatus.Active or ImageStatus.Deactivated))
            return Problems.Conflict("invalid_image_state", "Not possible in this state",
                $"Only active images can be deactivated and deactivated ones reactivated; the image is {ImageView.Lower(image.Status)}.");
        image.Status = target;
        image.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(await ViewAsync(db, image, OwnerView(caller, project, image), http.RequestAborted));
    }

    private static async Task<IResult> AddTag(Guid imageId, string tag, HttpContext http, ImagesDbContext db)
    {
        var (_, _, _, problem) = await FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        if (ValidateTags([tag]) is { } tagProblem)
            return tagProblem;
        if (!await db.ImageTags.AnyAsync(t => t.ImageId == imageId && t.Tag == tag, http.RequestAborted))
        {
            if (await db.ImageTags.CountAsync(t => t.ImageId == imageId, http.RequestAborted) >= MaxTags)
                return Problems.BadRequest("invalid_tag", "Too many tags", $"An image has at most {MaxTags} tags.");
            db.ImageTags.Add(new ImageTag { ImageId = imageId, Tag = tag });
            await db.SaveChangesAsync(http.RequestAborted);
        }
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RemoveTag(Guid imageId, string tag, HttpContext http, ImagesDbContext db)
    {
        var (_, _, _, problem) = await FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        var removed = await db.ImageTags.Where(t => t.ImageId == imageId && t.Tag == tag).ExecuteDeleteAsync(http.RequestAborted);
        return removed == 0 ? Problems.NotFound("tag_not_found", "Tag not found", $"The image has no tag '{tag}'.") : TypedResults.NoContent();
    }

    /// <summary>The image if the caller may change it; otherwise 404 (cannot see it) or 403 (can see, cannot change).</summary>
    internal static async Task<(Image? Image, Caller Caller, Guid? Project, ProblemHttpResult? Problem)> FindForChangeAsync(
        Guid imageId, HttpContext http, ImagesDbContext db, bool tracked)
    {
        var caller = Caller.From(http);
        if (ImageAccess.ActingProject(caller, out var project) is { } projectProblem)
            return (null, caller, project, projectProblem);
        var query = ImageAccess.Visible(db, caller, project);
        var image = await (tracked ? query : query.AsNoTracking()).SingleOrDefaultAsync(i => i.Id == imageId, http.RequestAborted);
        if (image is null)
            return (null, caller, project, ImageAccess.NotFound(imageId));
        return (image, caller, project, ImageAccess.CanChange(caller, project, image));
    }

    internal static bool OwnerView(Caller caller, Guid? project, Image image) => caller.IsCloudAdmin || project == image.OwnerProjectId;

    internal static async Task<ImageView> ViewAsync(ImagesDbContext db, Image image, bool ownerView, CancellationToken cancellationToken)
    {
        var tags = await db.ImageTags.AsNoTracking().Where(t => t.ImageId == image.Id).Select(t => t.Tag).ToListAsync(cancellationToken);
        return ImageView.Of(image, tags.Order(StringComparer.Ordinal).ToList(), ownerView);
    }

    private static ProblemHttpResult? ValidateFormats(string? diskFormat, string? containerFormat)
    {
        if (diskFormat is not null && !DiskFormats.All.Contains(diskFormat))
            return Problems.BadRequest("unsupported_disk_format", "Unsupported disk format", $"'{diskFormat}' is not one of {string.Join(", ", DiskFormats.All)}.");
        if (containerFormat is not null && containerFormat != "bare")
            return Problems.BadRequest("unsupported_container_format", "Unsupported container format", "Only 'bare' is supported: upload the disk itself.");
        return null;
    }

    private static ProblemHttpResult? ParseVisibility(string text, out ImageVisibility visibility)
    {
        if (Enum.TryParse(text, ignoreCase: true, out visibility) && !int.TryParse(text, out _))
            return null;
        return Problems.BadRequest("invalid_visibility", "Invalid visibility", "'visibility' is private, shared, community or public.");
    }

    private static ProblemHttpResult PublicRequiresAdmin() =>
        Problems.Forbidden("public_image_requires_admin", "Public images are for admins", "Only a cloud admin can publish an image; use 'community' to offer it to every project.");

    private static ProblemHttpResult? ValidateRequirements(int? ram, int? disk) =>
        ram is < 0 || disk is < 0
            ? Problems.BadRequest("invalid_min_requirement", "Invalid minimum", "'minRamMb' and 'minDiskGb' are whole numbers, 0 or more.")
            : null;

    private static ProblemHttpResult? ValidateTags(List<string>? tags)
    {
        if (tags is null)
            return null;
        if (tags.Count > MaxTags)
            return Problems.BadRequest("invalid_tag", "Too many tags", $"An image has at most {MaxTags} tags.");
        return tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 255)
            ? Problems.BadRequest("invalid_tag", "Invalid tag", "A tag is 1-255 characters and not blank.")
            : null;
    }

    private static ProblemHttpResult? ValidateProperties(Dictionary<string, string>? properties)
    {
        if (properties is null)
            return null;
        if (properties.Keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Length > 255))
            return Problems.BadRequest("invalid_property", "Invalid property", "Property names are 1-255 characters.");
        return JsonSerializer.Serialize(properties).Length > MaxPropertiesJson
            ? Problems.BadRequest("invalid_property", "Properties too large", $"Properties take at most {MaxPropertiesJson} bytes of JSON.")
            : null;
    }
}
