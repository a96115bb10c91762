using Microsoft.AspNetCore.Http;

namespace CloudPortal.ServiceDefaults.Configuration;

/// <summary>The <c>urls</c> setting (<c>--urls</c>), read one way everywhere: preflight, redirect URIs, the local authority.</summary>
public static class ListenUrls
{
    public const string Default = "http://127.0.0.1:8080";

    /// <summary>Each listen address; a malformed one is a startup error naming <c>--urls</c>.</summary>
    public static IReadOnlyList<BindingAddress> Parse(string? urls) =>
        (string.IsNullOrWhiteSpace(urls) ? Default : urls)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url =>
            {
                try
                {
                    return BindingAddress.Parse(url);
                }
                catch (FormatException ex)
                {
                    throw new StartupException($"'{url}' is not a listen address such as http://127.0.0.1:8080 (set --urls)", ex);
                }
            })
            .ToList();

    /// <summary>
    /// The base URLs (no trailing slash) this machine can call the process at: a wildcard listen address
    /// (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) becomes <c>127.0.0.1</c>.
    /// </summary>
    public static IReadOnlyList<string> Callable(string? urls) =>
        Parse(urls).Select(a => $"{a.Scheme}://{(IsWildcard(a.Host) ? "127.0.0.1" : a.Host)}:{a.Port}").ToList();

    public static bool IsWildcard(string host) => host is "*" or "+" or "0.0.0.0" or "[::]";
}
