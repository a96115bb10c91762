using CloudPortal.Portal.Api;
using CloudPortal.Portal.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Portal.Features.Shared;

/// <summary>
/// What every portal page shares: a signed-in user, antiforgery on every unsafe request, the security headers,
/// and the API client with the acting project.
/// </summary>
[Area(Area), Authorize(Policy = PortalAuthentication.Policy), AutoValidateAntiforgeryToken]
[ApiExplorerSettings(IgnoreApi = true)]   // HTML pages, not REST: in no OpenAPI document
public abstract class PortalController : Controller
{
    public const string Area = "Portal";

    protected PortalApi Api => HttpContext.RequestServices.GetRequiredService<PortalApi>();

    protected ProjectContext Projects => HttpContext.RequestServices.GetRequiredService<ProjectContext>();

    public override void OnActionExecuting(ActionExecutingContext context)
    {
        SecurityHeaders.Apply(HttpContext);
        base.OnActionExecuting(context);
    }

    /// <summary>After a change: back to a page, with the sentence it shows once.</summary>
    protected IActionResult Done(string message, string action, object? routeValues = null)
    {
        TempData["flash"] = message;
        return RedirectToAction(action, routeValues);
    }

    /// <summary>
    /// A change through an API: done, back to <paramref name="action"/> with <paramref name="message"/>; refused (bad
    /// input, role, quota, conflict), the same page again with the API's sentence and status 422.
    /// </summary>
    protected async Task<IActionResult> ChangeAsync(Func<Task> change, string message, string action, Func<string, Task<IActionResult>> again)
    {
        try
        {
            await change();
            return Done(message, action);
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 403 or 409)
        {
            Response.StatusCode = 422;
            return await again(refusal.Message);
        }
    }

    /// <summary>A refusal the page shows in its own form (the problem's sentence; no stack trace, ever).</summary>
    protected void Refused(ApiException refusal) => ModelState.AddModelError(string.Empty, refusal.Message);

    protected IActionResult NotFoundPage() => View("NotFound");
}

public static class SecurityHeaders
{
    /// <summary>Set where Identity is another origin: sign-in and sign-out forms redirect there.</summary>
    public static string FormTargets { get; set; } = "'self'";

    /// <summary>
    /// Pages load scripts, styles and images only from the portal, connect only back to it (the live hub and the
    /// console's websocket), and may not be framed.
    /// </summary>
    /// <param name="connect">Another origin the page may connect to (the console's websocket, when Compute is elsewhere).</param>
    public static void Apply(Microsoft.AspNetCore.Http.HttpContext context, string? connect = null)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = $"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'{(connect is null ? "" : " " + connect)}; " +
            $"frame-ancestors 'none'; form-action {FormTargets}; base-uri 'self'; object-src 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
    }
}
