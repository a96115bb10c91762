using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.AccessKeys;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Users;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace CloudPortal.Identity.Connect;

/// <summary>The OpenID Connect endpoints OpenIddict passes through to us: authorize, token, end session.</summary>
// OpenID Connect protocol endpoints, described by the discovery document, not by OpenAPI (docs/api/README.md).
[ApiExplorerSettings(IgnoreApi = true)]
public sealed class ConnectController(
    UserManager<CloudUser> users,
    SignInManager<CloudUser> signIn,
    TokenPrincipals principals,
    IOpenIddictApplicationManager applications,
    IdentityModuleDbContext db,
    Ec2SignatureCheck ec2Signatures,
    AuditLog audit) : Controller
{
    [HttpGet("~/identity/connect/authorize"), HttpPost("~/identity/connect/authorize"), IgnoreAntiforgeryToken]
    public async Task<IActionResult> Authorize()
    {
        var request = HttpContext.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal) : null;

        if (user is null || request.HasPromptValue(PromptValues.Login))
        {
            if (request.HasPromptValue(PromptValues.None))
                return Reject(Errors.LoginRequired, "The user is not signed in.");
            // Back to this same request after the login form.
            var query = Request.HasFormContentType ? QueryString.Create(Request.Form) : Request.QueryString;
            return Challenge(new AuthenticationProperties { RedirectUri = Request.PathBase + Request.Path + query }, IdentityConstants.ApplicationScheme);
        }
        if (await users.IsLockedOutAsync(user))
            return Reject(Errors.AccessDenied, "The account is locked.");

        // CloudPortal's clients are first-party: consent is implicit, so no consent screen.
        var principal = await principals.ForUserAsync(user, request.GetScopes(), HttpContext.RequestAborted);
        return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    [HttpPost("~/identity/connect/token"), IgnoreAntiforgeryToken, Produces("application/json")]
    public async Task<IActionResult> Exchange()
    {
        var request = HttpContext.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");

        if (request.IsClientCredentialsGrantType())
        {
            var application = await applications.FindByClientIdAsync(request.ClientId!, HttpContext.RequestAborted)
                ?? throw new InvalidOperationException("The client was validated by OpenIddict but cannot be found.");
            var name = await applications.GetDisplayNameAsync(application, HttpContext.RequestAborted);
            return SignIn(TokenPrincipals.ForService(request.ClientId!, name, request.GetScopes()), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var granted = await HttpContext.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
            var user = granted.Principal?.GetClaim(Claims.Subject) is { } subject ? await users.FindByIdAsync(subject) : null;
            if (user is null)
                return Reject(Errors.InvalidGrant, "The user no longer exists.");
            if (await users.IsLockedOutAsync(user))
                return Reject(Errors.InvalidGrant, "The account is locked.");
            var principal = await principals.ForUserAsync(user, granted.Principal!.GetScopes(), HttpContext.RequestAborted);
            return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
        }

        if (request.GrantType == Ec2Tokens.GrantType)
            return await Ec2SignatureAsync(request);

        return Reject(Errors.UnsupportedGrantType, "This grant type is not supported.");
    }

    /// <summary>
    /// ADR 0012: the EC2 API (a confidential client OpenIddict has authenticated) trades a request's verified SigV4
    /// signature for a short-lived token of the key's owner, holding the role in the key's project and no other.
    /// </summary>
    private async Task<IActionResult> Ec2SignatureAsync(OpenIddictRequest request)
    {
        var expires = (string?)request.GetParameter(Ec2Tokens.ExpiresInParameter);
        var check = new VerifyEc2Signature(
            (string?)request.GetParameter(Ec2Tokens.AccessKeyIdParameter) ?? "",
            (string?)request.GetParameter(Ec2Tokens.StringToSignParameter) ?? "",
            (string?)request.GetParameter(Ec2Tokens.SignatureParameter) ?? "",
            (string?)request.GetParameter(Ec2Tokens.ScopeParameter) ?? "",
            int.TryParse(expires, out var seconds) ? TimeSpan.FromSeconds(seconds) : null);
        if (await ec2Signatures.CheckAsync(check, HttpContext.RequestAborted) is not Ec2SignatureVerified verified)
            return Reject(Errors.InvalidGrant, "The signature was not verified.");
        var user = await users.FindByIdAsync(verified.UserId.ToString());
        if (user is null)
            return Reject(Errors.InvalidGrant, "The user no longer exists.");
        var principal = await principals.ForUserAsync(user, [Clients.ApiScope], HttpContext.RequestAborted, onlyProject: verified.ProjectId);
        principal.SetAccessTokenLifetime(Ec2TokenLifetime);
        return SignIn(principal, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>Short, because the EC2 API caches it per key: a revoked role still ends at the next signature check.</summary>
    public static readonly TimeSpan Ec2TokenLifetime = TimeSpan.FromMinutes(5);

    [HttpGet("~/identity/connect/endsession"), HttpPost("~/identity/connect/endsession"), IgnoreAntiforgeryToken]
    public async Task<IActionResult> EndSession()
    {
        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        await signIn.SignOutAsync();
        if (session.Succeeded && await users.GetUserAsync(session.Principal) is { } user)
        {
            audit.Record("signout", success: true, target: user.UserName, actorId: user.Id, actorName: user.UserName);
            await db.SaveChangesAsync(HttpContext.RequestAborted);
        }
        return SignOut(new AuthenticationProperties { RedirectUri = "/identity/account/login" }, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private ForbidResult Reject(string error, string description) => Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
}
