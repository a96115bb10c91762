namespace CloudPortal.Scheduler.Hosts;

/// <summary>The three resource classes a compute node provides.</summary>
public enum ResourceClass
{
    VCpu,
    MemoryMb,
    DiskGb,
}

/// <summary>
/// One resource class of one provider: what it has, what the operator holds back, how far it may be
/// over-committed, and what is allocated. Allocations may never exceed <see cref="Capacity"/>.
/// </summary>
public readonly record struct ResourceInventory(long Total, long Reserved, double AllocationRatio, long Used)
{
    /// <summary>(total − reserved) × ratio, rounded down; never negative.</summary>
    public long Capacity => CapacityOf(Total, Reserved, AllocationRatio);

    public long Free => Math.Max(0, Capacity - Used);

    public bool Fits(long amount) => amount <= 0 || Used + amount <= Capacity;

    // Decimal, not double: (100 − 0) × 0.29 must be 29, not 28.999999999999996 rounded down to 28.
    public static long CapacityOf(long total, long reserved, double ratio) =>
        total <= reserved || ratio <= 0 ? 0 : (long)decimal.Floor((total - reserved) * (decimal)ratio);
}
