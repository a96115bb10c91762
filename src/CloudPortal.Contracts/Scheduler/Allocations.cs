namespace CloudPortal.Contracts.Scheduler;

/// <summary>
/// Command (request/response optional → <see cref="AllocationReleased"/>): give back what a consumer (an
/// instance) holds. Idempotent: releasing a consumer that holds nothing is not an error.
/// </summary>
public sealed record ReleaseAllocation(Guid ConsumerId);

/// <summary>Response to <see cref="ReleaseAllocation"/>.</summary>
/// <param name="Host">Where the claim was; null when the consumer held nothing.</param>
public sealed record AllocationReleased(Guid ConsumerId, string? Host, PlacementResources? Released);
