namespace CloudPortal.Portal.Features.Shared;

/// <summary>Words for the API's codes, in one place.</summary>
public static class Labels
{
    public static string Resource(string resource) => resource switch
    {
        "instances" => "Instances",
        "cores" => "vCPUs",
        "ram_mb" => "RAM (MB)",
        "key_pairs" => "Key pairs",
        "server_groups" => "Server groups",
        "images" => "Images",
        "image_bytes" => "Image storage (bytes)",
        "volumes" => "Volumes",
        "gigabytes" => "Volume storage (GB)",
        "snapshots" => "Snapshots",
        "floating_ips" => "Floating IPs",
        "security_groups" => "Security groups",
        _ => resource,
    };

    public static string StatusClass(string status) => status switch
    {
        "active" => "text-bg-success",
        "building" => "text-bg-info",
        "error" => "text-bg-danger",
        "deleted" => "text-bg-dark",
        "stopped" or "suspended" or "paused" => "text-bg-secondary",
        _ => "text-bg-warning",
    };
}
