namespace CloudPortal.Contracts.Scheduler;

/// <summary>Request (→ <see cref="AvailabilityZoneList"/>): the availability zones tenants can launch into (EC2's DescribeAvailabilityZones).</summary>
public sealed record ListAvailabilityZones;

/// <summary>Response to <see cref="ListAvailabilityZones"/>.</summary>
public sealed record AvailabilityZoneList(IReadOnlyList<AvailabilityZoneState> Zones);

/// <param name="Available">At least one enabled host is up in the zone.</param>
public sealed record AvailabilityZoneState(string Name, bool Available);
