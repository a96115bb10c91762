using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Users;

public sealed record UserView(Guid Id, string UserName, string? Email, string? DisplayName, bool CloudAdmin, bool LockedOut, DateTime CreatedAt);

public sealed record UserPage(IReadOnlyList<UserView> Users, string? Next);

public sealed record MyProject(Guid Id, string Name, string Role);

public sealed record ResetPasswordBody(string? NewPassword);

public sealed record Me(Guid Id, string UserName, string? DisplayName, bool CloudAdmin, IReadOnlyList<MyProject> Projects);

public sealed record CreateUser(string? UserName, string? Password, string? Email, string? DisplayName, bool CloudAdmin = false);

public sealed record ChangePassword(string? CurrentPassword, string? NewPassword);

public static class UsersApi
{
    public static RouteGroupBuilder MapUsers(this RouteGroupBuilder api)
    {
        api.MapGet("/users", List).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("List users")
            .WithDescription("By user name; paging with `limit` and `marker` (a user id).")
            .Produces<UserPage>().ProducesProblems(400);
        api.MapPost("/users", Create).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Create a user")
            .WithDescription("Passwords: at least 12 characters, 5 distinct, not containing the user name.")
            .Produces<UserView>(StatusCodes.Status201Created)
            .ProducesProblems(400, 409);
        api.MapGet("/users/me", GetMe)
            .WithSummary("Show the signed-in user with their projects and roles")
            .Produces<Me>()
            .ProducesProblems(403, 404);
        api.MapPost("/users/me/password", ChangeMyPassword)
            .WithSummary("Change the signed-in user's password")
            .WithDescription("Revokes every refresh token of the user and ends their portal sessions; access tokens already issued lapse within their lifetime.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 403);
        api.MapGet("/users/{userId:guid}", Get).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Show a user")
            .Produces<UserView>()
            .ProducesProblems(404);
        api.MapDelete("/users/{userId:guid}", Delete).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Delete a user")
            .WithDescription("A cloud admin cannot delete their own account (`cannot_delete_self`). The user's refresh tokens are revoked and their portal sessions end.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404, 409);
        api.MapPost("/users/{userId:guid}/password", ResetPassword).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Set a user's password (a cloud admin's reset)")
            .WithDescription("The new password follows the same rules as any other (`weak_password`). The user's lockout ends too, "
                + "every refresh token of theirs is revoked and their portal sessions end.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 404);
        api.MapPost("/users/{userId:guid}/disable", Disable).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Disable a user")
            .WithDescription("The user can no longer sign in; their refresh tokens are revoked and their portal sessions end. "
                + "`unlock` enables them again. A cloud admin cannot disable their own account (`cannot_disable_self`).")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404, 409);
        api.MapPost("/users/{userId:guid}/unlock", Unlock).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Unlock a user locked out after failed sign-ins, or enable a disabled one")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(404);
        return api;
    }

    private static async Task<IResult> List(HttpContext http, IdentityModuleDbContext db, int? limit, Guid? marker)
    {
        var page = await db.Users.AsNoTracking()
            .PageByAsync(u => u.UserName!, marker is null ? null : u => u.Id == marker, u => u.Id.ToString(), http.Request, limit, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new UserPage(page.Items.Select(View).ToList(), page.Next));
    }

    private static async Task<IResult> Create(CreateUser body, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(body.UserName) || string.IsNullOrEmpty(body.Password))
            return Problems.BadRequest("invalid_request_body", "Missing fields", "Both userName and password are required.");
        var user = new CloudUser
        {
            UserName = body.UserName.Trim(),
            Email = string.IsNullOrWhiteSpace(body.Email) ? null : body.Email.Trim(),
            DisplayName = body.DisplayName?.Trim(),
            IsCloudAdmin = body.CloudAdmin,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        var result = await users.CreateAsync(user, body.Password);
        if (!result.Succeeded)
            return IdentityProblem(result, user.UserName);
        audit.Record("user.created", success: true, target: user.UserName, detail: body.CloudAdmin ? "cloud_admin=true" : null);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Created($"/identity/v1/users/{user.Id}", View(user));
    }

    private static async Task<IResult> Get(Guid userId, HttpContext http, IdentityModuleDbContext db)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, http.RequestAborted);
        return user is null ? UserNotFound(userId) : TypedResults.Ok(View(user));
    }

    private static async Task<IResult> GetMe(HttpContext http, IdentityModuleDbContext db)
    {
        if (Caller.From(http).UserId is not { } id)
            return Problems.Forbidden("user_required", "Not a user", "This endpoint describes a signed-in user; service tokens have none.");
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, http.RequestAborted);
        if (user is null)
            return UserNotFound(id);
        var projects = await db.RoleAssignments.AsNoTracking().Where(a => a.UserId == id)
            .Join(db.Projects, a => a.ProjectId, p => p.Id, (a, p) => new { p.Id, p.Name, a.Role })
            .OrderBy(p => p.Name).ToListAsync(http.RequestAborted);
        return TypedResults.Ok(new Me(user.Id, user.UserName!, user.DisplayName, user.IsCloudAdmin,
            projects.Select(p => new MyProject(p.Id, p.Name, p.Role.ToString().ToLowerInvariant())).ToList()));
    }

    private static async Task<IResult> ChangeMyPassword(ChangePassword body, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        if (Caller.From(http).UserId is not { } id || await users.FindByIdAsync(id.ToString()) is not { } user)
            return Problems.Forbidden("user_required", "Not a user", "Only a signed-in user can change their password.");
        if (string.IsNullOrEmpty(body.CurrentPassword) || string.IsNullOrEmpty(body.NewPassword))
            return Problems.BadRequest("invalid_request_body", "Missing fields", "Both currentPassword and newPassword are required.");
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        var result = await users.ChangePasswordAsync(user, body.CurrentPassword, body.NewPassword);
        if (result.Succeeded)
            await sessions.RevokeAsync(user.Id, UserSessions.PasswordChanged, http.RequestAborted);
        audit.Record("password.changed", result.Succeeded, target: user.UserName,
            detail: result.Succeeded ? null : string.Join(' ', result.Errors.Select(e => e.Code)));
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return result.Succeeded ? TypedResults.NoContent() : IdentityProblem(result, user.UserName!);
    }

    private static async Task<IResult> Delete(Guid userId, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        if (Caller.From(http).UserId == userId)
            return Problems.Conflict("cannot_delete_self", "Cannot delete yourself", "Another cloud admin must delete this account.");
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null)
            return UserNotFound(userId);
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        await users.DeleteAsync(user);
        await sessions.RevokeAsync(user.Id, UserSessions.UserDeleted, http.RequestAborted);
        audit.Record("user.deleted", success: true, target: user.UserName);
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Disable(Guid userId, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        if (Caller.From(http).UserId == userId)
            return Problems.Conflict("cannot_disable_self", "Cannot disable yourself", "Another cloud admin must disable this account.");
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null)
            return UserNotFound(userId);
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        // ASP.NET Core Identity's way of disabling an account: a lockout without end, which sign-in, the authorization
        // endpoint and the token endpoint all refuse. A new security stamp ends Identity's own cookie sessions too.
        await users.SetLockoutEnabledAsync(user, true);
        await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        await users.UpdateSecurityStampAsync(user);
        await sessions.RevokeAsync(user.Id, UserSessions.UserDisabled, http.RequestAborted);
        audit.Record("user.disabled", success: true, target: user.UserName);
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ResetPassword(Guid userId, ResetPasswordBody body, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit, UserSessions sessions)
    {
        if (string.IsNullOrEmpty(body.NewPassword))
            return Problems.BadRequest("invalid_request_body", "Missing fields", "newPassword is required.");
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null)
            return UserNotFound(userId);
        await using var transaction = await sessions.BeginAsync(http.RequestAborted);
        // ResetPasswordAsync validates first: a refused password leaves the old one in place.
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var result = await users.ResetPasswordAsync(user, token, body.NewPassword);
        if (result.Succeeded)
        {
            await users.SetLockoutEndDateAsync(user, null);
            await users.ResetAccessFailedCountAsync(user);
            await sessions.RevokeAsync(user.Id, UserSessions.PasswordReset, http.RequestAborted);
        }
        audit.Record("password.reset", result.Succeeded, target: user.UserName,
            detail: result.Succeeded ? null : string.Join(' ', result.Errors.Select(e => e.Code)));
        await db.SaveChangesAsync(http.RequestAborted);
        await transaction.CommitAsync(http.RequestAborted);
        sessions.Published();
        return result.Succeeded ? TypedResults.NoContent() : IdentityProblem(result, user.UserName!);
    }

    private static async Task<IResult> Unlock(Guid userId, HttpContext http, UserManager<CloudUser> users, IdentityModuleDbContext db, AuditLog audit)
    {
        var user = await users.FindByIdAsync(userId.ToString());
        if (user is null)
            return UserNotFound(userId);
        await users.SetLockoutEndDateAsync(user, null);
        await users.ResetAccessFailedCountAsync(user);
        audit.Record("user.unlocked", success: true, target: user.UserName);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary>ASP.NET Core Identity's error codes mapped to CloudPortal's stable ones.</summary>
    private static ProblemHttpResult IdentityProblem(IdentityResult result, string userName)
    {
        var codes = result.Errors.Select(e => e.Code).ToList();
        var detail = string.Join(" ", result.Errors.Select(e => e.Description));
        if (codes.Contains("DuplicateUserName"))
            return Problems.Conflict("user_name_taken", "User name taken", $"A user named '{userName}' already exists.");
        if (codes.Contains("InvalidUserName"))
            return Problems.BadRequest("invalid_user_name", "Invalid user name", detail);
        if (codes.Contains("PasswordMismatch"))
            return Problems.BadRequest("wrong_password", "Wrong password", "The current password is not correct.");
        if (codes.Any(c => c.StartsWith("Password", StringComparison.Ordinal)))
            return Problems.BadRequest("weak_password", "Password too weak", detail);
        return Problems.BadRequest("invalid_user", "Invalid user", detail);
    }

    private static ProblemHttpResult UserNotFound(Guid userId) => Problems.NotFound("user_not_found", "User not found", $"No user {userId}.");

    private static UserView View(CloudUser u) =>
        new(u.Id, u.UserName!, u.Email, u.DisplayName, u.IsCloudAdmin, u.LockoutEnd > DateTimeOffset.UtcNow, u.CreatedAt);
}
