namespace CloudPortal.ServiceDefaults.Quotas;

/// <summary>The <c>CloudPortal:Quotas</c> section.</summary>
public sealed class QuotaLimitCacheOptions
{
    public const string Section = "CloudPortal:Quotas";

    /// <summary>
    /// How often each owner replaces its cached limits with a snapshot from Identity, besides at start-up, so
    /// events it missed (it was down, the broker lost them) are repaired.
    /// </summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(10);
}
