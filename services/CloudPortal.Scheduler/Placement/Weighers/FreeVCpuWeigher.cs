namespace CloudPortal.Scheduler.Placement.Weighers;

/// <summary>More free vCPUs (after the allocation ratio) scores higher; negative multiplier to stack.</summary>
public sealed class FreeVCpuWeigher(double multiplier) : IHostWeigher
{
    public string Name => "FreeVCpuWeigher";

    public double Multiplier => multiplier;

    public double Weigh(HostState host, PlacementRequest request) => host.VCpu.Free;
}
