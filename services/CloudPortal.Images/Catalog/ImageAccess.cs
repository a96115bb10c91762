using CloudPortal.Images.Data;
using CloudPortal.Images.Sharing;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Images.Catalog;

/// <summary>
/// Who may see, use and change an image. A user acts in one project (the <c>CloudPortal-Project</c>
/// header) and must hold a role there. Rules, for a project P:
/// <list type="bullet">
/// <item>P owns the image: see it in any state but deleted; members and admins of P change it.</item>
/// <item>public and community images: everyone sees and uses them once active (deactivated ones are seen, not downloaded).</item>
/// <item>shared images: an accepted member lists and uses them; a pending or rejected member can only look at
///   the record (to decide); nobody else learns it exists.</item>
/// <item>cloud admins see and change everything; services (agents) see any image and fetch active ones.</item>
/// </list>
/// An image a caller may not see is a 404, never a 403, so ids do not leak across projects. Compute's launch
/// question (<see cref="Launch.GetLaunchImageConsumer"/>) is answered by the same rules for the project it names.
/// </summary>
public static class ImageAccess
{
    public static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("image_not_found", "Image not found", $"No image {id} that you can see.");

    /// <summary>The project a user acts in, or a problem; cloud admins and services may act without one.</summary>
    public static ProblemHttpResult? ActingProject(Caller caller, out Guid? project)
    {
        project = caller.ProjectId;
        if (project is null)
        {
            return caller.IsCloudAdmin || caller.IsService
                ? null
                : Problems.BadRequest("project_required", "Project required", $"Name the project you act in with the {CloudClaims.ProjectHeader} header.");
        }
        if (!caller.IsService && !caller.Has(ProjectRole.Reader, project.Value))
            return Problems.Forbidden("not_a_project_member", "Not a member of the project", $"You hold no role in project {project}.");
        return null;
    }

    /// <summary>Images a caller can see (for show); <paramref name="listing"/> narrows shared images to the member status asked for.</summary>
    public static IQueryable<Image> Visible(ImagesDbContext db, Caller caller, Guid? project, MemberStatus? listing = null, bool anyMemberStatus = true)
    {
        if (caller.IsCloudAdmin || caller.IsService || project is null)
            return db.Images.Where(i => i.Status != ImageStatus.Deleted);
        return VisibleToProject(db, project.Value, listing, anyMemberStatus);
    }

    /// <summary>Images a member of project <paramref name="p"/> can see: what <see cref="Visible"/> gives a user acting there.</summary>
    public static IQueryable<Image> VisibleToProject(ImagesDbContext db, Guid p, MemberStatus? listing = null, bool anyMemberStatus = true)
    {
        var status = listing ?? MemberStatus.Accepted;
        return db.Images.Where(i => i.Status != ImageStatus.Deleted).Where(i => i.OwnerProjectId == p
            || ((i.Status == ImageStatus.Active || i.Status == ImageStatus.Deactivated)
                && (i.Visibility == ImageVisibility.Public || i.Visibility == ImageVisibility.Community
                    || (i.Visibility == ImageVisibility.Shared && db.ImageMembers.Any(m => m.ImageId == i.Id && m.ProjectId == p
                        && (anyMemberStatus || m.Status == status))))));
    }

    public static bool IsOwner(Caller caller, Guid? project, Image image) => project == image.OwnerProjectId;

    /// <summary>Whether the caller may change the image (update, delete, upload, share...).</summary>
    public static ProblemHttpResult? CanChange(Caller caller, Guid? project, Image image)
    {
        if (caller.IsCloudAdmin)
            return null;
        if (caller.IsService || project != image.OwnerProjectId)
            return Problems.Forbidden("not_image_owner", "Not the image's owner", "Only members of the project that owns the image can change it.");
        if (!caller.Has(ProjectRole.Member, project.Value))
            return Problems.Forbidden("forbidden", "Read-only role", "Readers cannot change images.");
        return null;
    }

    /// <summary>Whether the caller may download the data of an image it can see.</summary>
    public static async Task<ProblemHttpResult?> CanDownloadAsync(ImagesDbContext db, Caller caller, Guid? project, Image image, CancellationToken cancellationToken)
    {
        if (!caller.IsCloudAdmin && !caller.IsService && project != image.OwnerProjectId && image.Visibility == ImageVisibility.Shared
            && !await db.ImageMembers.AnyAsync(m => m.ImageId == image.Id && m.ProjectId == project && m.Status == MemberStatus.Accepted, cancellationToken))
            return Problems.Forbidden("image_membership_not_accepted", "Membership not accepted", "Accept the image's membership before using it.");
        if (!caller.IsCloudAdmin && !caller.IsService && image.Visibility == ImageVisibility.Private && project != image.OwnerProjectId)
            return NotFound(image.Id);
        return image.Status switch
        {
            ImageStatus.Active => null,
            ImageStatus.Deactivated when caller.IsCloudAdmin => null,
            ImageStatus.Deactivated => Problems.Forbidden("image_deactivated", "Image deactivated", "The image is deactivated; its data cannot be downloaded."),
            _ => Problems.Conflict("image_not_active", "Image not active", $"The image is {image.Status.ToString().ToLowerInvariant()}; it has no data to download yet."),
        };
    }

    public static Caller CallerOf(HttpContext http) => Caller.From(http);
}
