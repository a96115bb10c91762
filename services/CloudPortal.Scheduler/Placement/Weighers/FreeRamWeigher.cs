namespace CloudPortal.Scheduler.Placement.Weighers;

/// <summary>More free RAM scores higher: a positive multiplier spreads instances, a negative one stacks them.</summary>
public sealed class FreeRamWeigher(double multiplier) : IHostWeigher
{
    public string Name => "FreeRamWeigher";

    public double Multiplier => multiplier;

    public double Weigh(HostState host, PlacementRequest request) => host.MemoryMb.Free;
}
