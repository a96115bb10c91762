using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace CloudPortal.ServiceDefaults.Configuration;

/// <summary>What the listen addresses allow: whether plain HTTP is served, and which HTTP addresses other machines reach.</summary>
/// <param name="AllowHttp">
/// Some listen address is plain HTTP and that is permitted: cookies follow the request's scheme and OpenIddict
/// accepts requests over HTTP. False when every address is HTTPS: cookies are always Secure.
/// </param>
/// <param name="ExposedHttp">Plain HTTP addresses that are not loopback-only (empty when there are none).</param>
/// <param name="InsecureHttp">The operator passed <c>--insecure-http</c>.</param>
public sealed record TransportDecision(bool AllowHttp, IReadOnlyList<string> ExposedHttp, bool InsecureHttp)
{
    /// <summary>Plain HTTP reaches other machines because the operator asked for it: worth one loud warning.</summary>
    public bool ServesInsecureHttp => InsecureHttp && ExposedHttp.Count > 0;
}

/// <summary>
/// The one place that decides whether this process may speak plain HTTP. Passwords, session cookies and tokens
/// cross these connections, so plain HTTP is served by default only on loopback addresses (an all-in-one on one
/// box, a TLS-terminating proxy on the same machine); any other HTTP address needs TLS or <c>--insecure-http</c>.
/// </summary>
public static class TransportSecurity
{
    public const string InsecureHttpKey = "CloudPortal:InsecureHttp";

    /// <summary>The addresses Kestrel will listen on: its <c>Kestrel:Endpoints</c> when configured (they override <c>urls</c>), else <c>urls</c>.</summary>
    public static IReadOnlyList<BindingAddress> ListenAddresses(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(e => e["Url"]).OfType<string>().Where(u => !string.IsNullOrWhiteSpace(u)).ToList();
        return ListenUrls.Parse(endpoints.Count > 0 ? string.Join(';', endpoints) : configuration["urls"]);
    }

    public static TransportDecision Decide(IConfiguration configuration) =>
        Decide(ListenAddresses(configuration), configuration.GetValue<bool>(InsecureHttpKey));

    public static TransportDecision Decide(IReadOnlyList<BindingAddress> addresses, bool insecureHttp)
    {
        var http = addresses.Where(a => !a.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase)).ToList();
        var exposed = http.Where(a => !IsLoopback(a)).Select(a => a.ToString()).ToList();
        return new TransportDecision(AllowHttp: http.Count > 0 && (exposed.Count == 0 || insecureHttp), exposed, insecureHttp);
    }

    /// <summary>Whether cookies may go without the Secure flag and OpenIddict may answer over HTTP (see <see cref="TransportDecision.AllowHttp"/>).</summary>
    public static bool AllowsHttp(IConfiguration configuration) => Decide(configuration).AllowHttp;

    /// <summary>The decision, or a <see cref="StartupException"/> naming the fix when plain HTTP would reach other machines unasked.</summary>
    public static TransportDecision Enforce(IConfiguration configuration)
    {
        var decision = Decide(configuration);
        if (decision.ExposedHttp.Count > 0 && !decision.InsecureHttp)
            throw new StartupException(
                $"plain HTTP on {string.Join(", ", decision.ExposedHttp)} would carry passwords and tokens unencrypted to other machines: " +
                "listen on an https:// address with a certificate (Kestrel:Certificates:Default:Path), on a loopback address, " +
                "or pass --insecure-http (CloudPortal:InsecureHttp) when TLS ends in front of this process (see docs/operations.md#tls)");
        return decision;
    }

    /// <summary>
    /// True for an address only this machine reaches: <c>localhost</c> or a loopback IP. Wildcards and any other host
    /// name bind every interface (Kestrel binds a name it cannot parse as an IP to all addresses).
    /// </summary>
    public static bool IsLoopback(BindingAddress address) =>
        address.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(address.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
