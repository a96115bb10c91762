using System.Security.Cryptography;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Projects;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.AccessKeys;

public sealed record AccessKeyView(string AccessKeyId, Guid UserId, Guid ProjectId, DateTime CreatedAt, DateTime? LastUsedAt);

public sealed record AccessKeyPage(IReadOnlyList<AccessKeyView> AccessKeys, string? Next);

/// <summary>Returned by create only: the secret is never shown again.</summary>
public sealed record CreatedAccessKey(string AccessKeyId, string SecretAccessKey, Guid UserId, Guid ProjectId, DateTime CreatedAt);

/// <summary>
/// EC2 access keys of the calling user in one project. Members and admins create them; a key acts with
/// the roles its owner has in the project at the time of each request.
/// </summary>
public static class AccessKeysApi
{
    /// <summary>As in AWS IAM: two keys per user (here per user and project), so a key can be rotated.</summary>
    public const int MaxKeysPerUserAndProject = 2;

    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    public static RouteGroupBuilder MapAccessKeys(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/access-keys", List).RequireAuthorization(CloudPolicies.Reader)
            .WithSummary("List EC2 access keys in a project")
            .WithDescription("Your own keys; a project admin sees every key in the project. Secrets are never listed. " +
                "By access key id; paging with `limit` and `marker` (an access key id).")
            .Produces<AccessKeyPage>().ProducesProblems(400);
        // Creating or deleting a key is a change, which readers never make.
        api.MapPost("/projects/{projectId:guid}/access-keys", Create).RequireAuthorization(CloudPolicies.Member)
            .WithSummary("Create an EC2 access key for yourself in a project")
            .WithDescription($"The secret is in this response only. At most {MaxKeysPerUserAndProject} keys per user and project.")
            .Produces<CreatedAccessKey>(StatusCodes.Status201Created)
            .ProducesProblems(404, 409);
        api.MapDelete("/projects/{projectId:guid}/access-keys/{accessKeyId}", Delete).RequireAuthorization(CloudPolicies.Member)
            .WithSummary("Delete an EC2 access key")
            .WithDescription("Your own; a project admin may delete any key in the project.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404);
        return api;
    }

    public static IDataProtector Protector(IDataProtectionProvider provider) => provider.CreateProtector("CloudPortal.Identity.Ec2Secrets.v1");

    /// <summary>A user sees their own keys; a project admin sees every key in the project.</summary>
    private static async Task<IResult> List(Guid projectId, HttpContext http, IdentityModuleDbContext db, int? limit, string? marker)
    {
        var caller = Caller.From(http);
        if (caller.UserId is not { } userId)
            return UserRequired();
        var seeAll = caller.Has(ProjectRole.Admin, projectId);
        var page = await db.AccessKeys.AsNoTracking()
            .Where(k => k.ProjectId == projectId && (seeAll || k.UserId == userId))
            .PageByAsync(k => k.AccessKeyId, marker is null ? null : k => k.AccessKeyId == marker, k => k.AccessKeyId, http.Request, limit, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new AccessKeyPage(
            page.Items.Select(k => new AccessKeyView(k.AccessKeyId, k.UserId, k.ProjectId, k.CreatedAt, k.LastUsedAt)).ToList(), page.Next));
    }

    private static async Task<IResult> Create(Guid projectId, HttpContext http, IdentityModuleDbContext db, IDataProtectionProvider protection, AuditLog audit, TimeProvider time)
    {
        if (Caller.From(http).UserId is not { } userId)
            return UserRequired();
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, http.RequestAborted))
            return ProjectsApi.NotFound(projectId);
        if (await db.AccessKeys.CountAsync(k => k.ProjectId == projectId && k.UserId == userId, http.RequestAborted) >= MaxKeysPerUserAndProject)
            return Problems.Conflict("access_key_limit_reached", "Too many access keys",
                $"You already have {MaxKeysPerUserAndProject} access keys in this project; delete one before creating another.");

        var id = "AKIA" + RandomNumberGenerator.GetString(IdAlphabet, 16);
        var secret = RandomNumberGenerator.GetString(SecretAlphabet, 40);
        var key = new Ec2AccessKey
        {
            AccessKeyId = id,
            UserId = userId,
            ProjectId = projectId,
            ProtectedSecret = Protector(protection).Protect(secret),
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.AccessKeys.Add(key);
        audit.Record("accesskey.created", success: true, target: id, projectId: projectId);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Created($"/identity/v1/projects/{projectId}/access-keys/{id}", new CreatedAccessKey(id, secret, userId, projectId, key.CreatedAt));
    }

    private static async Task<IResult> Delete(Guid projectId, string accessKeyId, HttpContext http, IdentityModuleDbContext db, AuditLog audit)
    {
        var caller = Caller.From(http);
        if (caller.UserId is not { } userId)
            return UserRequired();
        var key = await db.AccessKeys.SingleOrDefaultAsync(k => k.AccessKeyId == accessKeyId && k.ProjectId == projectId, http.RequestAborted);
        // Someone else's key is as invisible as a missing one, unless the caller administers the project.
        if (key is null || (key.UserId != userId && !caller.Has(ProjectRole.Admin, projectId)))
            return Problems.NotFound("access_key_not_found", "Access key not found", $"No access key {accessKeyId} of yours in this project.");
        db.AccessKeys.Remove(key);
        audit.Record("accesskey.deleted", success: true, target: accessKeyId, projectId: projectId);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult UserRequired() =>
        Problems.Forbidden("user_required", "Not a user", "Access keys belong to users; service tokens cannot hold them.");
}
