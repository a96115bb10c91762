using CloudPortal.ServiceDefaults.Http;

namespace CloudPortal.Compute.Instances;

/// <summary>One entry of an instance's action log (Nova's instance actions): who asked for what, when, and how it ended.</summary>
public sealed class InstanceActionRecord : ISequenced
{
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    public Guid InstanceId { get; set; }

    public Guid ProjectId { get; set; }

    /// <summary>The HTTP request's trace id, to find it in the logs.</summary>
    public required string RequestId { get; set; }

    public InstanceOperation Operation { get; set; }

    public Guid? UserId { get; set; }

    public required string UserName { get; set; }

    public DateTime StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>null while running, then <c>success</c> or <c>error</c>.</summary>
    public string? Result { get; set; }

    public string? FaultCode { get; set; }

    public string? FaultMessage { get; set; }

    /// <summary>How it went, in a few words ("soft reboot: the guest shut down and was booted again").</summary>
    public string? Detail { get; set; }
}

/// <summary>
/// A launch request already answered, kept for its client token: the same token with the same body gets the same
/// instances back; with another body, a conflict.
/// </summary>
public sealed class LaunchRequest
{
    public Guid ProjectId { get; set; }

    public required string ClientToken { get; set; }

    /// <summary>SHA-256 of the request body (without the token), hex.</summary>
    public required string BodyHash { get; set; }

    public Guid ReservationId { get; set; }

    public DateTime CreatedAt { get; set; }
}
