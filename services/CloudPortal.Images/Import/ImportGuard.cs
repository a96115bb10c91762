using System.Net;
using System.Net.Sockets;
using CloudPortal.Images.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.Images.Import;

/// <summary>An import target the rules refuse; no connection was made to it.</summary>
/// <param name="message">What the tenant is told.</param>
/// <param name="detail">What only the log gets: the addresses a name resolved to, or that it did not resolve.</param>
public sealed class ImportRefusedException(string code, string message, string? detail = null) : Exception(message)
{
    public string Code { get; } = code;

    public string Detail { get; } = detail ?? message;
}

/// <summary>
/// Decides where an import may connect, and makes the connection itself: it resolves the host, checks every
/// address, and connects to the address it checked, so a DNS answer that changes between the check and the
/// connection (rebinding) cannot send the request inside.
/// </summary>
public sealed class ImportGuard(IServiceScopeFactory scopes, IOptions<ImagesOptions> options)
{
    /// <summary>The allow-list: configuration plus what admins added through the API.</summary>
    public async Task<IReadOnlyList<string>> AllowListAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
        var stored = await db.ImportAllowedHosts.AsNoTracking().Select(h => h.Host).ToListAsync(cancellationToken);
        return [.. options.Value.ImportAllowedHosts, .. stored];
    }

    public static void CheckUrl(Uri url)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
            throw new ImportRefusedException("invalid_import_url", "Only absolute http:// and https:// URLs can be imported.");
        if (!string.IsNullOrEmpty(url.UserInfo))
            throw new ImportRefusedException("invalid_import_url", "Import URLs may not carry credentials.");
    }

    /// <summary>The addresses of <paramref name="url"/>'s host that the rules allow, in resolver order; throws when there are none.</summary>
    public async Task<IReadOnlyList<IPAddress>> ResolveAllowedAsync(Uri url, CancellationToken cancellationToken)
    {
        CheckUrl(url);
        return await ResolveAllowedAsync(url.IdnHost, await AllowListAsync(cancellationToken), cancellationToken);
    }

    public static async Task<IReadOnlyList<IPAddress>> ResolveAllowedAsync(string host, IReadOnlyList<string> allowList, CancellationToken cancellationToken)
    {
        // A tenant learns that a name was refused, never what it resolves to inside the cloud or whether it resolves at
        // all: either would let imports map the internal network. The facts go to the log for admins.
        var refusedName = $"Imports may reach public internet addresses only, and '{host}' is not one. An admin can allow the host.";
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            }
            catch (SocketException ex)
            {
                throw new ImportRefusedException("import_address_refused", refusedName, $"'{host}' does not resolve: {ex.Message}");
            }
        }
        var allowed = addresses.Where(a => AddressFilter.IsAllowed(host, a, allowList) || AddressFilter.RefusalReason(a) is null).ToList();
        if (allowed.Count == 0)
        {
            var first = addresses.FirstOrDefault();
            var why = first is null ? "no address" : AddressFilter.RefusalReason(first);
            // An address the tenant typed is theirs to hear about.
            throw literal is not null
                ? new ImportRefusedException("import_address_refused", $"Imports may not reach {literal}: it is {why}. An admin can allow it.")
                : new ImportRefusedException("import_address_refused", refusedName, $"'{host}' resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}: {why}");
        }
        return allowed;
    }

    /// <summary>An HTTP client that connects only where the rules allow and never follows redirects or proxies on its own.</summary>
    public static HttpClient CreateClient(IReadOnlyList<string> allowList)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var host = context.DnsEndPoint.Host;
                var addresses = await ResolveAllowedAsync(host, allowList, cancellationToken);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(addresses[0], context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
