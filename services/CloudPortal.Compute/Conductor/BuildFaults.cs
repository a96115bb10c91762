using CloudPortal.Contracts.Compute;

namespace CloudPortal.Compute.Conductor;

/// <summary>
/// Fault codes of instances, and the sentences tenants read. An agent's own reason names the node and its paths; it goes
/// into the fault's admin details, and the tenant gets the sentence for its code.
/// </summary>
public static class BuildFaults
{
    public const string NoValidHost = "no_valid_host";
    public const string BuildFailed = "build_failed";
    public const string BuildTimeout = "build_timeout";
    public const string DomainVanished = "domain_vanished";
    public const string DeleteFailed = "delete_failed";
    public const string SchedulerError = "scheduler_error";

    /// <summary>Failures another host cannot fix: the image or the flavor is wrong wherever it is built.</summary>
    public static bool Reschedulable(string agentCode) => agentCode is not (
        AgentFailureCodes.InvalidImageSource or AgentFailureCodes.ImageChecksumMismatch or AgentFailureCodes.ImageFormatMismatch
        or AgentFailureCodes.ImageUnsafe or AgentFailureCodes.InvalidFlavor or AgentFailureCodes.FlavorDiskTooSmall);

    public static string ForTenant(string agentCode) => agentCode switch
    {
        AgentFailureCodes.HypervisorUnavailable => "the host's hypervisor was unavailable",
        AgentFailureCodes.HypervisorError => "the hypervisor refused to create or start the virtual machine",
        AgentFailureCodes.FlavorTooLarge => "the flavor is larger than the host",
        AgentFailureCodes.FlavorDiskTooSmall => "the flavor's root disk is smaller than the image",
        AgentFailureCodes.InvalidFlavor => "the flavor is not valid",
        AgentFailureCodes.InvalidImageSource => "the image's download address or checksum is not valid",
        AgentFailureCodes.ImageDownloadFailed => "the image could not be downloaded to the host",
        AgentFailureCodes.ImageChecksumMismatch => "the downloaded image did not match its checksum",
        AgentFailureCodes.ImageFormatMismatch => "the image's data is not in its declared format",
        AgentFailureCodes.ImageUnsafe => "the image refers to other files (backing or data file) and was refused",
        AgentFailureCodes.StorageUnavailable => "the host's storage was unavailable",
        AgentFailureCodes.InstanceExists or AgentFailureCodes.DomainConflict => "the host already has another virtual machine with this id",
        AgentFailureCodes.WrongHost => "the build request reached the wrong host",
        _ => "the host failed to build it",
    };
}

/// <summary>One failed build attempt, kept in the fault's admin details.</summary>
public sealed record BuildAttempt(int Attempt, string Host, string Code, string Reason, DateTimeOffset At);
