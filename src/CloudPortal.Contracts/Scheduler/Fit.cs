namespace CloudPortal.Contracts.Scheduler;

/// <summary>
/// Request (→ <see cref="FitReport"/>): how many instances of each flavor would fit on the free capacity
/// right now, for the launch wizard. Nothing is claimed; each flavor is counted on its own.
/// </summary>
/// <param name="AvailabilityZone">Only hosts in this zone; null for any zone.</param>
public sealed record CheckFit(Guid ProjectId, string? AvailabilityZone, IReadOnlyList<FlavorToFit> Flavors);

/// <param name="Flavor">The caller's name or id of the flavor, echoed in the report.</param>
public sealed record FlavorToFit(string Flavor, PlacementResources Resources, IReadOnlyDictionary<string, string>? ExtraSpecs = null);

/// <summary>Response to <see cref="CheckFit"/>.</summary>
public sealed record FitReport(Guid ProjectId, string? AvailabilityZone, IReadOnlyList<FlavorFit> Flavors, DateTimeOffset At);

/// <param name="Count">How many would fit now (0 when none).</param>
/// <param name="Reason">When <paramref name="Count"/> is 0: why, in one sentence a tenant can act on.</param>
public sealed record FlavorFit(string Flavor, int Count, string? Reason);
