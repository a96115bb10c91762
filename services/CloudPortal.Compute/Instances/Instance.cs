using CloudPortal.ServiceDefaults.Http;
using CloudPortal.Compute.Conductor;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.Compute.Instances;

/// <summary>Nova's stable states (vm_state): where an instance rests between operations.</summary>
public enum InstanceStatus
{
    Building,
    Active,
    Stopped,
    Paused,
    Suspended,
    Error,
    Deleted,
}

/// <summary>Nova's task states: the operation in progress, if any. An instance has at most one at a time.</summary>
public enum InstanceTask
{
    Scheduling,
    Spawning,
    Stopping,
    Starting,
    Rebooting,
    RebootingHard,
    Pausing,
    Unpausing,
    Suspending,
    Resuming,
    Deleting,
}

/// <summary>
/// A virtual machine of a project. Status, task and power state are kept apart (Nova's vm_state, task_state and
/// power_state): the status says where the instance rests, the task what is being done to it, the power state what
/// libvirt last said. Changes go through <see cref="InstanceTransitions"/>.
/// </summary>
public sealed class Instance : ISequenced
{
    /// <summary>Insertion order: the stable sort key for paging.</summary>
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    public Guid ProjectId { get; set; }

    /// <summary>Who launched it (null for a service).</summary>
    public Guid? UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>The launch (one request, min/max count) this instance came from; EC2's reservation.</summary>
    public Guid ReservationId { get; set; }

    /// <summary>Its place in that launch, from 0 (EC2's ami-launch-index).</summary>
    public int LaunchIndex { get; set; }

    public InstanceStatus Status { get; set; }

    public InstanceTask? Task { get; set; }

    public PowerState PowerState { get; set; }

    /// <summary>When the agent observed <see cref="PowerState"/> (its clock): older events never overwrite newer ones.</summary>
    public DateTime? PowerStateAt { get; set; }

    // The flavor as it was at launch (Nova keeps a copy too): a later change or deletion of the flavor changes nothing here.
    public Guid FlavorId { get; set; }

    public required string FlavorName { get; set; }

    public int VCpus { get; set; }

    public int RamMb { get; set; }

    public int DiskGb { get; set; }

    public int EphemeralGb { get; set; }

    public Dictionary<string, string> FlavorExtraSpecs { get; set; } = [];

    public Guid ImageId { get; set; }

    public required string ImageName { get; set; }

    /// <summary>What the node downloads: the signed URL from Images and the data's checksum, size and format.</summary>
    public ImageSource? ImageSource { get; set; }

    public Dictionary<string, string> ImageProperties { get; set; } = [];

    public string? KeyName { get; set; }

    /// <summary>The key pair's public key at launch (deleting the key pair later does not change what the instance got).</summary>
    public string? PublicKey { get; set; }

    /// <summary>Base64 user data as given (cloud-init), at most 64 KiB decoded.</summary>
    public string? UserData { get; set; }

    public Dictionary<string, string> Metadata { get; set; } = [];

    public Guid? ServerGroupId { get; set; }

    /// <summary>The zone asked for at launch; null for any.</summary>
    public string? RequestedZone { get; set; }

    /// <summary>The node it runs on (or is being built on).</summary>
    public string? Host { get; set; }

    /// <summary>Build attempts so far (a failed spawn is retried on another host).</summary>
    public int Attempts { get; set; }

    /// <summary>The attempts that failed, with their host and the agent's reason; the next selection avoids those hosts.</summary>
    public List<BuildAttempt> FailedAttempts { get; set; } = [];

    public List<string> FailedHosts => FailedAttempts.Select(a => a.Host).Distinct().ToList();

    /// <summary>Why the instance is in error (null otherwise): a stable code and a sentence for the tenant.</summary>
    public string? FaultCode { get; set; }

    public string? FaultMessage { get; set; }

    /// <summary>Admin-only detail of the fault (the Scheduler's per-filter table, the failed attempts), as JSON.</summary>
    public string? FaultDetails { get; set; }

    public DateTime? FaultAt { get; set; }

    /// <summary>When the current task began: the stuck-task reaper measures an operation's timeout from here (a build's, from <see cref="CreatedAt"/>).</summary>
    public DateTime? TaskStartedAt { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>When it first became ACTIVE.</summary>
    public DateTime? LaunchedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    /// <summary>Optimistic concurrency: API handlers and consumers race on one row; the loser re-reads.</summary>
    public int Version { get; set; }

    public bool HasFault => FaultCode is not null;

    public void SetFault(string code, string message, string? details, DateTime at)
    {
        FaultCode = code;
        FaultMessage = message.Length > 2048 ? message[..2048] : message;
        FaultDetails = details;
        FaultAt = at;
    }

    public void ClearFault()
    {
        FaultCode = null;
        FaultMessage = null;
        FaultDetails = null;
        FaultAt = null;
    }
}

/// <summary>An EC2-style key/value tag of an instance (<c>Name=web</c>).</summary>
public sealed class InstanceTag
{
    public Guid InstanceId { get; set; }

    public required string Key { get; set; }

    public required string Value { get; set; }
}
