using CloudPortal.Images.Catalog;
using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Sharing;

public sealed record AddMember(Guid? Member);

public sealed record SetMemberStatus(string? Status);

public sealed record MemberView(Guid ImageId, Guid Member, string Status, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record MemberPage(IReadOnlyList<MemberView> Members, string? Next);

/// <summary>
/// Sharing (Glance's image members): the owner adds projects to a shared image; each member project accepts
/// or rejects it. Only an accepted member lists and uses the image.
/// </summary>
public static class MembersApi
{
    public static RouteGroupBuilder MapMembers(this RouteGroupBuilder api)
    {
        api.MapGet("/images/{imageId:guid}/members", List)
            .WithSummary("List an image's member projects")
            .WithDescription("The owner sees every member; a member project sees its own membership only. Oldest first; " +
                "paging with `limit` and `marker` (a member project id).")
            .Produces<MemberPage>()
            .ProducesProblems(400, 403, 404);
        api.MapPost("/images/{imageId:guid}/members", Add)
            .WithSummary("Share an image with a project")
            .WithDescription("The image's visibility must be `shared`. The membership starts `pending` until the member project accepts it.")
            .Produces<MemberView>(StatusCodes.Status201Created)
            .ProducesProblems(400, 403, 404, 409);
        api.MapGet("/images/{imageId:guid}/members/{memberId:guid}", Show)
            .WithSummary("Show one membership")
            .Produces<MemberView>()
            .ProducesProblems(400, 403, 404);
        api.MapPut("/images/{imageId:guid}/members/{memberId:guid}", SetStatus)
            .WithSummary("Accept or reject a shared image")
            .WithDescription("Only the member project itself (members and admins of it) sets `status`: `pending`, `accepted` or `rejected`. " +
                "Only an accepted member lists and uses the image.")
            .Produces<MemberView>()
            .ProducesProblems(400, 403, 404);
        api.MapDelete("/images/{imageId:guid}/members/{memberId:guid}", Remove)
            .WithSummary("Stop sharing an image with a project")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 403, 404);
        return api;
    }

    /// <summary>The owner sees every member; a member project sees its own membership only.</summary>
    private static async Task<IResult> List(Guid imageId, HttpContext http, ImagesDbContext db, int? limit, Guid? marker)
    {
        var (image, caller, project, problem) = await FindAsync(imageId, http, db);
        if (problem is not null)
            return problem;
        var all = caller.IsCloudAdmin || project == image!.OwnerProjectId;
        var members = await db.ImageMembers.AsNoTracking()
            .Where(m => m.ImageId == imageId && (all || m.ProjectId == project))
            .ToListAsync(http.RequestAborted);
        // An image's members are few enough to order here, where ties order by project id the same on every provider.
        var page = Paging.PageOf(members.OrderBy(m => m.CreatedAt).ThenBy(m => m.ProjectId).Select(View), m => m.Member.ToString(), marker?.ToString(),
            http.Request, limit);
        return page.Problem ?? (IResult)TypedResults.Ok(new MemberPage(page.Items, page.Next));
    }

    private static async Task<IResult> Add(Guid imageId, AddMember body, HttpContext http, ImagesDbContext db, TimeProvider time)
    {
        var (image, _, _, problem) = await ImagesApi.FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        if (image!.Visibility != ImageVisibility.Shared)
            return Problems.Conflict("image_not_shared", "Image not shared", "Set the image's visibility to 'shared' before adding members.");
        if (body.Member is not { } member || member == Guid.Empty)
            return Problems.BadRequest("invalid_member", "Invalid member", "'member' is the id of the project to share the image with.");
        if (member == image.OwnerProjectId)
            return Problems.BadRequest("invalid_member", "Invalid member", "The owner cannot be a member of its own image.");
        if (await db.ImageMembers.AnyAsync(m => m.ImageId == imageId && m.ProjectId == member, http.RequestAborted))
            return Problems.Conflict("member_exists", "Already a member", $"Project {member} is already a member of the image.");
        var now = time.GetUtcNow().UtcDateTime;
        var row = new ImageMember { ImageId = imageId, ProjectId = member, Status = MemberStatus.Pending, CreatedAt = now, UpdatedAt = now };
        db.ImageMembers.Add(row);
        try
        {
            await db.SaveChangesAsync(http.RequestAborted);
        }
        catch (DbUpdateException)
        {
            return Problems.Conflict("member_exists", "Already a member", $"Project {member} is already a member of the image.");
        }
        return TypedResults.Created($"/images/v2/images/{imageId}/members/{member}", View(row));
    }

    private static async Task<IResult> Show(Guid imageId, Guid memberId, HttpContext http, ImagesDbContext db)
    {
        var (image, caller, project, problem) = await FindAsync(imageId, http, db);
        if (problem is not null)
            return problem;
        if (!caller.IsCloudAdmin && project != image!.OwnerProjectId && project != memberId)
            return MemberNotFound(memberId);
        var row = await db.ImageMembers.AsNoTracking().SingleOrDefaultAsync(m => m.ImageId == imageId && m.ProjectId == memberId, http.RequestAborted);
        return row is null ? MemberNotFound(memberId) : TypedResults.Ok(View(row));
    }

    /// <summary>Only the member project itself accepts, rejects or resets its membership.</summary>
    private static async Task<IResult> SetStatus(Guid imageId, Guid memberId, SetMemberStatus body, HttpContext http, ImagesDbContext db, TimeProvider time)
    {
        var (_, caller, project, problem) = await FindAsync(imageId, http, db);
        if (problem is not null)
            return problem;
        var row = await db.ImageMembers.SingleOrDefaultAsync(m => m.ImageId == imageId && m.ProjectId == memberId, http.RequestAborted);
        if (row is null || (project != memberId && !caller.IsCloudAdmin))
            return row is not null && project is not null && !caller.IsService
                ? Problems.Forbidden("not_the_member", "Not the member", "Only the member project decides whether it accepts an image.")
                : MemberNotFound(memberId);
        if (!caller.IsCloudAdmin && !caller.Has(ProjectRole.Member, memberId))
            return Problems.Forbidden("forbidden", "Read-only role", "Readers cannot accept or reject images.");
        if (!Enum.TryParse<MemberStatus>(body.Status, ignoreCase: true, out var status) || int.TryParse(body.Status, out _))
            return Problems.BadRequest("invalid_member_status", "Invalid member status", "'status' is pending, accepted or rejected.");
        row.Status = status;
        row.UpdatedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(View(row));
    }

    private static async Task<IResult> Remove(Guid imageId, Guid memberId, HttpContext http, ImagesDbContext db)
    {
        var (_, _, _, problem) = await ImagesApi.FindForChangeAsync(imageId, http, db, tracked: false);
        if (problem is not null)
            return problem;
        var removed = await db.ImageMembers.Where(m => m.ImageId == imageId && m.ProjectId == memberId).ExecuteDeleteAsync(http.RequestAborted);
        return removed == 0 ? MemberNotFound(memberId) : TypedResults.NoContent();
    }

    private static async Task<(Image? Image, Caller Caller, Guid? Project, ProblemHttpResult? Problem)> FindAsync(Guid imageId, HttpContext http, ImagesDbContext db)
    {
        var caller = Caller.From(http);
        if (ImageAccess.ActingProject(caller, out var project) is { } projectProblem)
            return (null, caller, project, projectProblem);
        var image = await ImageAccess.Visible(db, caller, project).AsNoTracking().SingleOrDefaultAsync(i => i.Id == imageId, http.RequestAborted);
        return image is null ? (null, caller, project, ImageAccess.NotFound(imageId)) : (image, caller, project, null);
    }

    private static ProblemHttpResult MemberNotFound(Guid member) =>
        Problems.NotFound("member_not_found", "Member not found", $"Project {member} is not a member of the image.");

    private static MemberView View(ImageMember m) => new(m.ImageId, m.ProjectId, ImageView.Lower(m.Status), m.CreatedAt, m.UpdatedAt);
}
