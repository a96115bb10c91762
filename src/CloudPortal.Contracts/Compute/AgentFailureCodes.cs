namespace CloudPortal.Contracts.Compute;

/// <summary>The stable codes of <see cref="InstanceSpawnFailed"/>, <see cref="InstanceActionFailed"/> and <see cref="ConsoleUnavailable"/>.</summary>
public static class AgentFailureCodes
{
    /// <summary>The command names another host: it reached the wrong queue.</summary>
    public const string WrongHost = "wrong_host";

    /// <summary>The node cannot reach libvirt. Another node may succeed.</summary>
    public const string HypervisorUnavailable = "hypervisor_unavailable";

    /// <summary>libvirt refused or failed the operation; the reason carries its message.</summary>
    public const string HypervisorError = "hypervisor_error";

    /// <summary>The node has no instance with this id.</summary>
    public const string InstanceNotFound = "instance_not_found";

    /// <summary>A spawn for an id that exists on the node with another project, flavor or image.</summary>
    public const string InstanceExists = "instance_exists";

    /// <summary>A libvirt domain that is not this instance holds its name or UUID.</summary>
    public const string DomainConflict = "domain_conflict";

    /// <summary>The action does not apply in the instance's current power state (e.g. pause a stopped instance).</summary>
    public const string InvalidState = "invalid_state";

    /// <summary>The flavor's vCPUs, RAM or root disk exceed what the node has at all.</summary>
    public const string FlavorTooLarge = "flavor_too_large";

    /// <summary>Zero or negative vCPUs, RAM or disk.</summary>
    public const string InvalidFlavor = "invalid_flavor";

    /// <summary>The root disk is smaller than the image's virtual size.</summary>
    public const string FlavorDiskTooSmall = "flavor_disk_too_small";

    /// <summary>No image URL, not http(s), a malformed checksum or an unknown disk format.</summary>
    public const string InvalidImageSource = "invalid_image_source";

    /// <summary>The image could not be downloaded (HTTP error, connection refused, timeout).</summary>
    public const string ImageDownloadFailed = "image_download_failed";

    /// <summary>The downloaded data's SHA-256 or size is not the one the command gives.</summary>
    public const string ImageChecksumMismatch = "image_checksum_mismatch";

    /// <summary>The data is not in the format the command gives.</summary>
    public const string ImageFormatMismatch = "image_format_mismatch";

    /// <summary>A qcow2 image that refers to other files (backing file, external data file).</summary>
    public const string ImageUnsafe = "image_unsafe";

    /// <summary>The node's storage pool or directory could not be prepared (path, permissions, disk full).</summary>
    public const string StorageUnavailable = "storage_unavailable";

    /// <summary>The instance is not running, so it has no VNC server.</summary>
    public const string ConsoleNotRunning = "console_not_running";

    /// <summary>An unexpected failure in the agent; its log has the details.</summary>
    public const string AgentError = "agent_error";
}
