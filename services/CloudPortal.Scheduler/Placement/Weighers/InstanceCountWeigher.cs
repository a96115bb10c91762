namespace CloudPortal.Scheduler.Placement.Weighers;

/// <summary>Scores by the number of instances on the host: a negative multiplier prefers emptier hosts.</summary>
public sealed class InstanceCountWeigher(double multiplier) : IHostWeigher
{
    public string Name => "InstanceCountWeigher";

    public double Multiplier => multiplier;

    public double Weigh(HostState host, PlacementRequest request) => host.InstanceCount;
}
