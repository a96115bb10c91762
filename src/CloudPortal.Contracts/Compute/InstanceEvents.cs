namespace CloudPortal.Contracts.Compute;

/// <summary>
/// Event (Compute, through its outbox): an instance's status, task or power state changed. What the portal's live
/// views and other modules follow; the REST API stays the source of truth.
/// </summary>
/// <param name="Status">Compute's stable status, lowercase (<c>building</c>, <c>active</c>, <c>stopped</c>, ...).</param>
/// <param name="Task">The operation in progress, lowercase (<c>scheduling</c>, <c>spawning</c>, <c>stopping</c>, ...), or null.</param>
/// <param name="FaultCode">Set while the instance is in error: why.</param>
public sealed record InstanceStateChanged(
    Guid InstanceId,
    Guid ProjectId,
    string Name,
    string Status,
    string? Task,
    PowerState PowerState,
    string? FaultCode,
    string? FaultMessage,
    DateTimeOffset At);
