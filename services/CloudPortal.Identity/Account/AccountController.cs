using System.ComponentModel.DataAnnotations;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Users;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Identity.Account;

public sealed class LoginForm
{
    [Required(ErrorMessage = "Enter your user name.")]
    public string UserName { get; set; } = "";

    [Required(ErrorMessage = "Enter your password.")]
    [DataType(DataType.Password)]
    public string Password { get; set; } = "";

    public string? ReturnUrl { get; set; }
}

public sealed class ChangePasswordForm
{
    [Required(ErrorMessage = "Enter your current password.")]
    [DataType(DataType.Password)]
    public string CurrentPassword { get; set; } = "";

    [Required(ErrorMessage = "Enter a new password.")]
    [DataType(DataType.Password)]
    public string NewPassword { get; set; } = "";

    public bool Changed { get; set; }
}

/// <summary>The only pages Identity serves: sign in, sign out, change password.</summary>
[Route("identity/account")]
[AutoValidateAntiforgeryToken]
// HTML pages, not REST: in no OpenAPI document (docs/api/README.md).
[ApiExplorerSettings(IgnoreApi = true)]
public sealed class AccountController(
    SignInManager<CloudUser> signIn,
    UserManager<CloudUser> users,
    IdentityModuleDbContext db,
    AuditLog audit,
    UserSessions sessions) : Controller
{
    [HttpGet("login")]
    public IActionResult Login(string? returnUrl) => View(new LoginForm { ReturnUrl = returnUrl });

    [HttpPost("login")]
    public async Task<IActionResult> Login(LoginForm form)
    {
        if (!ModelState.IsValid)
            return View(form);

        var result = await signIn.PasswordSignInAsync(form.UserName, form.Password, isPersistent: false, lockoutOnFailure: true);
        var user = await users.FindByNameAsync(form.UserName);
        var action = result.Succeeded ? "signin.succeeded" : result.IsLockedOut ? "signin.locked_out" : "signin.failed";
        audit.Record(action, result.Succeeded, target: form.UserName, actorId: user?.Id, actorName: form.UserName);
        await db.SaveChangesAsync(HttpContext.RequestAborted);

        if (result.Succeeded)
            return Url.IsLocalUrl(form.ReturnUrl) ? LocalRedirect(form.ReturnUrl) : Redirect("/");
        // The same words for an unknown user and a wrong password: no user enumeration.
        ModelState.AddModelError("", result.IsLockedOut
            ? "This account is locked after too many failed sign-ins. Try again later or ask an administrator."
            : "Invalid user name or password.");
        return View(form);
    }

    [HttpPost("logout")]
    public async Task<IActionResult> Logout()
    {
        var user = await users.GetUserAsync(User);
        await signIn.SignOutAsync();
        if (user is not null)
        {
            audit.Record("signout", success: true, target: user.UserName, actorId: user.Id, actorName: user.UserName);
            await db.SaveChangesAsync(HttpContext.RequestAborted);
        }
        return RedirectToAction(nameof(Login));
    }

    [HttpGet("change-password")]
    [Authorize(AuthenticationSchemes = "Identity.Application")]
    public IActionResult ChangePassword() => View(new ChangePasswordForm());

    [HttpPost("change-password")]
    [Authorize(AuthenticationSchemes = "Identity.Application")]
    public async Task<IActionResult> ChangePassword(ChangePasswordForm form)
    {
        if (!ModelState.IsValid)
            return View(form);
        var user = await users.GetUserAsync(User);
        if (user is null)
            return RedirectToAction(nameof(Login));

        IdentityResult result;
        await using (var transaction = await sessions.BeginAsync(HttpContext.RequestAborted))
        {
            var changed = await users.ChangePasswordAsync(user, form.CurrentPassword, form.NewPassword);
            if (changed.Succeeded)
                await sessions.RevokeAsync(user.Id, UserSessions.PasswordChanged, HttpContext.RequestAborted);
            audit.Record("password.changed", changed.Succeeded, target: user.UserName, actorId: user.Id, actorName: user.UserName,
                detail: changed.Succeeded ? null : string.Join(' ', changed.Errors.Select(e => e.Code)));
            await db.SaveChangesAsync(HttpContext.RequestAborted);
            await transaction.CommitAsync(HttpContext.RequestAborted);
            result = changed;
        }
        sessions.Published();
        if (!result.Succeeded)
        {
            foreach (var error in result.Errors)
                ModelState.AddModelError("", error.Description);
            return View(form);
        }
        await signIn.RefreshSignInAsync(user);
        return View(new ChangePasswordForm { Changed = true });
    }
}
