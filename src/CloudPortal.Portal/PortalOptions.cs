namespace CloudPortal.Portal;

/// <summary>The <c>CloudPortal:Portal</c> section.</summary>
public sealed class PortalOptions
{
    public const string Section = "CloudPortal:Portal";

    /// <summary>
    /// Identity's URL (its issuer) for signing in; default <c>CloudPortal:Identity:Authority</c>, else this process's
    /// own first listen address (all-in-one, where Identity runs in the same process).
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>
    /// Where each module's REST API is, by module name (<c>identity</c>, <c>compute</c>, <c>images</c>, <c>scheduler</c>);
    /// a module not named here is called at this process's own first listen address (all-in-one).
    /// </summary>
    public Dictionary<string, string> Apis { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How long a signed-in session lasts without use. The session also ends when Identity stops refreshing its tokens.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Upper bound of one call to a module's API from a page.</summary>
    public TimeSpan ApiTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
