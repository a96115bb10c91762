using CloudPortal.Identity.Users;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Caching.Memory;

namespace CloudPortal.Portal.Api;

/// <summary>
/// The signed-in user's projects with their names (Identity's <c>/users/me</c>), for the header of every page;
/// kept half a minute per user so a page costs no extra call. Roles are taken from the token, never from here.
/// </summary>
public sealed class MeDirectory(PortalApi api, IMemoryCache cache, IHttpContextAccessor http)
{
    public async Task<Me?> GetAsync(CancellationToken cancellationToken = default)
    {
        var subject = http.HttpContext?.User.FindFirst("sub")?.Value;
        if (subject is null)
            return null;
        return await cache.GetOrCreateAsync($"portal-me:{subject}", async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(30);
            return await api.GetAsync<Me>("identity", "identity/v1/users/me", cancellationToken);
        });
    }

    public void Forget()
    {
        if (http.HttpContext?.User.FindFirst("sub")?.Value is { } subject)
            cache.Remove($"portal-me:{subject}");
    }
}
