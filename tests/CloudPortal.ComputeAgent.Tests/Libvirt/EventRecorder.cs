using System.Threading.Channels;
using CloudPortal.ComputeAgent.Libvirt;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Collects lifecycle events from the event loop thread so a test can wait for them (bounded).</summary>
internal sealed class EventRecorder
{
    /// <summary>
    /// How long to wait for an event before calling it lost. Generous: the suite runs other test projects' KVM guests
    /// and clouds on the same two cores, and once (in a full run) no event of a test-driver domain arrived within 15 s.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly Channel<DomainLifecycleEvent> _channel = Channel.CreateUnbounded<DomainLifecycleEvent>();
    private readonly List<DomainLifecycleEvent> _seen = [];
    private readonly Lock _gate = new();

    public void Record(DomainLifecycleEvent @event)
    {
        lock (_gate)
            _seen.Add(@event);
        _channel.Writer.TryWrite(@event);
    }

    /// <summary>Everything recorded so far, in arrival order.</summary>
    public IReadOnlyList<DomainLifecycleEvent> Seen
    {
        get
        {
            lock (_gate)
                return [.. _seen];
        }
    }

    /// <summary>Waits for the next event matching <paramref name="match"/>, skipping others.</summary>
    public async Task<DomainLifecycleEvent> WaitForAsync(Func<DomainLifecycleEvent, bool> match, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        try
        {
            while (true)
            {
                var @event = await _channel.Reader.ReadAsync(timeout.Token);
                if (match(@event))
                    return @event;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no {what} event within {Patience.TotalSeconds} s; seen: {string.Join(", ", Seen)}");
        }
    }

    public Task<DomainLifecycleEvent> WaitForAsync(Guid domain, DomainEventType type) =>
        WaitForAsync(e => e.DomainUuid == domain && e.Type == type, $"{type} for {domain}");
}
