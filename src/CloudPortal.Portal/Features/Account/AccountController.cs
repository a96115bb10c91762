using CloudPortal.Portal.Api;
using CloudPortal.Portal.Auth;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.Account;

/// <summary>Signing in and out, and choosing the project to act in.</summary>
public sealed class AccountController : PortalController
{
    [HttpGet("/signin"), AllowAnonymous]
    public IActionResult SignIn(string? returnUrl) =>
        Challenge(new AuthenticationProperties { RedirectUri = Url.IsLocalUrl(returnUrl) ? returnUrl : "/" }, PortalAuthentication.OidcScheme);

    /// <summary>Ends the portal session and Identity's (its end-session endpoint), then comes back to the start page.</summary>
    [HttpPost("/signout")]
    public IActionResult SignOutOfPortal() =>
        SignOut(new AuthenticationProperties { RedirectUri = "/" }, PortalAuthentication.CookieScheme, PortalAuthentication.OidcScheme);

    [HttpGet("/signin-failed"), AllowAnonymous]
    public IActionResult SignInFailed(string? reason) =>
        View("Error", new ErrorModel("Sign-in failed", "Identity did not sign you in" + (string.IsNullOrWhiteSpace(reason) ? "." : $": {reason}"), null, HttpContext.TraceIdentifier));

    [HttpGet("/forbidden")]
    public IActionResult Forbidden()
    {
        var page = View("Error", new ErrorModel("Not allowed", "Your role does not allow this page.", null, HttpContext.TraceIdentifier));
        page.StatusCode = 403;
        return page;
    }

    /// <summary>The project switcher: remembered in a cookie; only a project the user has a role in is ever used.</summary>
    [HttpPost("/project")]
    public IActionResult SwitchProject([FromForm] Guid projectId, [FromForm] string? returnUrl)
    {
        if (Projects.Projects.Any(p => p.ProjectId == projectId))
            Response.Cookies.Append(ProjectContext.Cookie, projectId.ToString(), new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = Request.IsHttps, IsEssential = true, MaxAge = TimeSpan.FromDays(90),
            });
        return LocalRedirect(Url.IsLocalUrl(returnUrl) ? returnUrl! : "/");
    }
}
