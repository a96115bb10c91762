namespace CloudPortal.Scheduler.Placement;

/// <summary>A filter's verdict on one host. <see cref="Code"/> groups rejections in the explanation ("disabled: 2").</summary>
public readonly record struct FilterResult(bool Passed, string? Code, string? Reason)
{
    public static FilterResult Pass { get; } = new(true, null, null);

    public static FilterResult Fail(string code, string reason) => new(false, code, reason);
}

/// <summary>A host a filter removed, and why.</summary>
public readonly record struct Rejection(HostState Host, FilterResult Result);

/// <summary>
/// Removes hosts that cannot take the instance. Pure: no I/O, no clock, no randomness; everything it needs is in
/// the host state and the request.
/// </summary>
public interface IHostFilter
{
    string Name { get; }

    FilterResult Passes(HostState host, PlacementRequest request);

    /// <summary>
    /// When this filter removed the last remaining hosts: one sentence a tenant can act on, naming no host
    /// (e.g. "no host in az-1 has 16384 MB RAM free: largest free is 8192 MB").
    /// </summary>
    string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected);
}

/// <summary>
/// Scores a host; higher is better. Raw scores are normalised to 0..1 over the candidates, then multiplied by
/// <see cref="Multiplier"/> (a negative multiplier turns "prefer more" into "prefer less").
/// </summary>
public interface IHostWeigher
{
    string Name { get; }

    double Multiplier { get; }

    double Weigh(HostState host, PlacementRequest request);
}
