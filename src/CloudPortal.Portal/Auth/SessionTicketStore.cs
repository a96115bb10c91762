using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Caching.Distributed;

namespace CloudPortal.Portal.Auth;

/// <summary>
/// Keeps each session's ticket (claims and tokens) on the server; the browser's cookie carries only its key. The
/// cache is this process's memory: a restart signs everyone out, which costs a redirect through Identity (whose
/// own session usually signs them straight back in). Several replicas need sticky sessions or a shared
/// <see cref="IDistributedCache"/>.
/// </summary>
public sealed class SessionTicketStore(IDistributedCache cache, TimeProvider time) : ITicketStore
{
    private const string Prefix = "portal-session:";

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await RenewAsync(key, ticket);
        return key;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) =>
        cache.SetAsync(Prefix + key, TicketSerializer.Default.Serialize(ticket), new DistributedCacheEntryOptions
        {
            AbsoluteExpiration = ticket.Properties.ExpiresUtc ?? time.GetUtcNow().AddHours(8),
        });

    public async Task<AuthenticationTicket?> RetrieveAsync(string key) =>
        await cache.GetAsync(Prefix + key) is { } bytes ? TicketSerializer.Default.Deserialize(bytes) : null;

    public Task RemoveAsync(string key) => cache.RemoveAsync(Prefix + key);
}
