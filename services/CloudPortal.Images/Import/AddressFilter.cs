using System.Net;
using System.Net.Sockets;

namespace CloudPortal.Images.Import;

/// <summary>
/// Which addresses a URL import may connect to: public unicast only. Loopback, link-local (the
/// 169.254.169.254 metadata service included), private, carrier-grade NAT, unspecified, multicast,
/// documentation and reserved ranges are refused, for IPv6 too, and for IPv4 addresses embedded in IPv6.
/// An admin can allow named hosts, addresses or ranges.
/// </summary>
public static class AddressFilter
{
    private static readonly (IPNetwork Network, string Why)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified (\"this network\") address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address (where instance metadata lives)"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.88.99.0/24"), "a 6to4 relay address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
        (IPNetwork.Parse("::/128"), "the unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("::/96"), "an IPv4-compatible address"),
        (IPNetwork.Parse("100::/64"), "a discard-only address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
        (IPNetwork.Parse("fc00::/7"), "a unique local (private) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a site-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");

    /// <summary>Why an import may not connect to <paramref name="address"/>, or null when it is public.</summary>
    public static string? RefusalReason(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
            return RefusalReason(address.MapToIPv4());
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && Nat64.Contains(address))
        {
            var bytes = address.GetAddressBytes();
            return RefusalReason(new IPAddress(bytes[12..]));
        }
        if (address.AddressFamily == AddressFamily.InterNetwork && address.Equals(IPAddress.Broadcast))
            return "the broadcast address";
        foreach (var (network, why) in Refused)
        {
            if (network.BaseAddress.AddressFamily == address.AddressFamily && network.Contains(address))
                return why;
        }
        return null;
    }

    /// <summary>Whether an allow-list entry (host name, address or CIDR range) admits this host and address.</summary>
    public static bool IsAllowed(string host, IPAddress address, IEnumerable<string> allowList)
    {
        ArgumentNullException.ThrowIfNull(allowList);
        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var entry in allowList)
        {
            if (string.Equals(entry, host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
                return true;
            if (IPAddress.TryParse(entry, out var ip) && ip.Equals(normalized))
                return true;
            if (entry.Contains('/', StringComparison.Ordinal) && IPNetwork.TryParse(entry, out var network)
                && network.BaseAddress.AddressFamily == normalized.AddressFamily && network.Contains(normalized))
                return true;
        }
        return false;
    }

    /// <summary>A valid allow-list entry: a host name, an address, or a CIDR range.</summary>
    public static bool IsValidEntry(string entry) =>
        !string.IsNullOrWhiteSpace(entry) && entry.Length <= 255 &&
        (IPAddress.TryParse(entry, out _) || IPNetwork.TryParse(entry, out _) || Uri.CheckHostName(entry) == UriHostNameType.Dns);
}
