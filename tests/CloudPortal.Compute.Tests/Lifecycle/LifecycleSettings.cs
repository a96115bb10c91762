namespace CloudPortal.Compute.Tests.Lifecycle;

internal static class LifecycleSettings
{
    /// <summary>Settings for clouds whose guests boot for real.</summary>
    public static Dictionary<string, string?> FastAgent => new()
    {
        // The boot-sector guest halts and never answers the ACPI button: every clean stop waits this long, then pulls the plug.
        ["CloudPortal__Agent__StopTimeout"] = "00:00:03",
        ["CloudPortal__Agent__ReportInterval"] = "00:00:03",
        ["CloudPortal__Compute__ReaperInterval"] = "00:00:01",
    };
}
