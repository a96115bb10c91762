namespace CloudPortal.Scheduler.Aggregates;

/// <summary>
/// A named group of hosts with free-form metadata (e.g. <c>ssd=true</c>, <c>gpu=a100</c>). A flavor asks for
/// hosts of a kind with the extra spec <c>aggregate_instance_extra_specs:ssd=true</c>.
/// </summary>
public sealed class Aggregate
{
    public Guid Id { get; init; } = Guid.NewGuid();

    public required string Name { get; set; }

    public Dictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);

    public List<AggregateHost> Hosts { get; init; } = [];

    public DateTime CreatedAt { get; init; }
}

public sealed class AggregateHost
{
    public Guid AggregateId { get; init; }

    public required string Host { get; init; }
}
