using CloudPortal.Contracts.Compute;

namespace CloudPortal.ComputeAgent.Power;

/// <summary>
/// The last power state the agent published per instance, shared by the event monitor and the periodic report.
/// <see cref="Gate"/> serialises them: the report reads libvirt and compares under it, so an event processed in
/// between can never be overwritten by an older reading.
/// </summary>
public sealed class PowerStateTracker : IDisposable
{
    private readonly Dictionary<Guid, PowerState> _states = [];

    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Records <paramref name="state"/>; returns the previous one, if any. Call under <see cref="Gate"/>.</summary>
    public PowerState? Set(Guid instanceId, PowerState state)
    {
        var previous = _states.TryGetValue(instanceId, out var known) ? known : (PowerState?)null;
        if (state == PowerState.NoState)
            _states.Remove(instanceId);
        else
            _states[instanceId] = state;
        return previous;
    }

    /// <summary>Every instance known, with its last state. Call under <see cref="Gate"/>.</summary>
    public IReadOnlyDictionary<Guid, PowerState> Snapshot() => new Dictionary<Guid, PowerState>(_states);

    public void Dispose() => Gate.Dispose();
}
