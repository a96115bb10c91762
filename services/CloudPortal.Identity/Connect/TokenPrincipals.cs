using System.Collections.Immutable;
using System.Security.Claims;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Users;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace CloudPortal.Identity.Connect;

/// <summary>Builds the identities behind CloudPortal's tokens.</summary>
public sealed class TokenPrincipals(IdentityModuleDbContext db)
{
    /// <summary>
    /// A user's principal with every project role read fresh from the database: a refresh picks up role
    /// changes, so a revoked role lasts at most one access-token lifetime.
    /// </summary>
    /// <param name="onlyProject">The one project whose role the token carries (an EC2 key's), instead of all of them.</param>
    public async Task<ClaimsPrincipal> ForUserAsync(CloudUser user, ImmutableArray<string> scopes, CancellationToken cancellationToken, Guid? onlyProject = null)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString("D"))
            .SetClaim(Claims.Name, user.UserName)
            .SetClaim(Claims.PreferredUsername, user.UserName)
            .SetClaim(Claims.Email, user.Email);
        if (user.IsCloudAdmin)
            identity.SetClaim(CloudClaims.CloudAdmin, "true");

        var roles = await db.RoleAssignments.AsNoTracking()
            .Where(a => a.UserId == user.Id && (onlyProject == null || a.ProjectId == onlyProject))
            .Join(db.Projects.Where(p => p.Enabled), a => a.ProjectId, p => p.Id, (a, _) => a)
            .ToListAsync(cancellationToken);
        identity.SetClaims(CloudClaims.ProjectRole, [.. roles.Select(r => CloudClaims.FormatProjectRole(r.ProjectId, r.Role))]);

        identity.SetScopes(scopes);
        identity.SetDestinations(claim => claim.Type switch
        {
            // The ID token says who signed in; authorization data stays in the access token.
            Claims.Name or Claims.Subject or Claims.PreferredUsername or Claims.Email => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [Destinations.AccessToken],
        });
        return new ClaimsPrincipal(identity);
    }

    /// <summary>A service's principal (client credentials): no user, no project roles.</summary>
    public static ClaimsPrincipal ForService(string clientId, string? displayName, ImmutableArray<string> scopes)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, clientId)
            .SetClaim(Claims.Name, displayName ?? clientId)
            .SetClaim(CloudClaims.Service, "true");
        identity.SetScopes(scopes);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return new ClaimsPrincipal(identity);
    }
}
