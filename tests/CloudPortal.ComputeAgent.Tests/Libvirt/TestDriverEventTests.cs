using System.Runtime.CompilerServices;
using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Lifecycle events raised by the simulated driver's own operations.</summary>
public sealed class TestDriverEventTests : IDisposable
{
    private const int StartedBooted = 0;     // VIR_DOMAIN_EVENT_STARTED_BOOTED
    private const int StoppedDestroyed = 1;  // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    [Fact]
    public async Task Reports_each_lifecycle_step_of_a_domain_in_order()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        var uuid = Guid.NewGuid();
        var recorder = new EventRecorder();
        using var subscription = connection.SubscribeDomainLifecycle(recorder.Record, uuid);

        using (var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, uuid)))
        {
            domain.Start();
            domain.Suspend();
            domain.Resume();
            domain.Destroy();
            domain.Undefine();
        }
        await recorder.WaitForAsync(uuid, DomainEventType.Undefined);

        Assert.Equal(
            [DomainEventType.Defined, DomainEventType.Started, DomainEventType.Suspended, DomainEventType.Resumed, DomainEventType.Stopped, DomainEventType.Undefined],
            recorder.Seen.Select(e => e.Type));
        Assert.All(recorder.Seen, e => Assert.Equal((uuid, name), (e.DomainUuid, e.DomainName)));
        Assert.Equal(StartedBooted, recorder.Seen.Single(e => e.Type == DomainEventType.Started).Detail);
        Assert.Equal(StoppedDestroyed, recorder.Seen.Single(e => e.Type == DomainEventType.Stopped).Detail);
    }

    [Fact]
    public async Task Subscription_for_one_domain_ignores_other_domains()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var watched = Guid.NewGuid();
        var other = Guid.NewGuid();
        var mine = new EventRecorder();
        var everything = new EventRecorder();
        using var one = connection.SubscribeDomainLifecycle(mine.Record, watched);
        using var all = connection.SubscribeDomainLifecycle(everything.Record);

        using (connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), other)))
        using (connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), watched)))
        {
        }
        // Both subscriptions see events in libvirt's order; once the later one arrives, the earlier has been filtered.
        await everything.WaitForAsync(watched, DomainEventType.Defined);
        await mine.WaitForAsync(watched, DomainEventType.Defined);

        Assert.Contains(everything.Seen, e => e.DomainUuid == other);
        Assert.All(mine.Seen, e => Assert.Equal(watched, e.DomainUuid));
    }

    [Fact]
    public async Task Several_subscriptions_on_one_connection_all_receive_events()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var uuid = Guid.NewGuid();
        var recorders = Enumerable.Range(0, 3).Select(_ => new EventRecorder()).ToList();
        var subscriptions = recorders.Select(r => connection.SubscribeDomainLifecycle(r.Record)).ToList();
        using var perDomain = connection.SubscribeDomainLifecycle(recorders[0].Record, uuid);

        using (connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), uuid)))
        {
        }

        foreach (var recorder in recorders)
            await recorder.WaitForAsync(uuid, DomainEventType.Defined);
        await recorders[0].WaitForAsync(uuid, DomainEventType.Defined);
        foreach (var subscription in subscriptions)
            subscription.Dispose();

        // The first recorder is subscribed twice (all domains, and this one): it hears the event twice.
        Assert.Equal(2, recorders[0].Seen.Count(e => e.DomainUuid == uuid));
        Assert.All(recorders.Skip(1), r => Assert.Single(r.Seen, e => e.DomainUuid == uuid));
    }

    [Fact]
    public async Task Disposed_subscription_receives_nothing_more()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var uuid = Guid.NewGuid();
        var stopped = new EventRecorder();
        var barrier = new EventRecorder();
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), uuid));
        using var kept = connection.SubscribeDomainLifecycle(barrier.Record, uuid);
        var disposed = connection.SubscribeDomainLifecycle(stopped.Record, uuid);

        disposed.Dispose();
        disposed.Dispose();
        domain.Start();
        domain.Destroy();
        // Events are dispatched in order on one thread: by the time Stopped reaches the barrier, Started went by.
        await barrier.WaitForAsync(uuid, DomainEventType.Stopped);

        Assert.Empty(stopped.Seen);
    }

    [Fact]
    public async Task A_throwing_handler_is_reported_and_does_not_stop_delivery()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var uuid = Guid.NewGuid();
        var reported = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = new EventRecorder();
        void OnFailure(object? sender, LibvirtCallbackFailedEventArgs e)
        {
            if (e.Exception.Message == uuid.ToString())
                reported.TrySetResult(e.Exception);
        }
        LibvirtEventLoop.CallbackFailed += OnFailure;
        try
        {
            using var throwing = connection.SubscribeDomainLifecycle(_ => throw new InvalidOperationException(uuid.ToString()), uuid);
            using var healthy = connection.SubscribeDomainLifecycle(recorder.Record, uuid);

            using (var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), uuid)))
                domain.Start();

            var exception = await reported.Task.WaitAsync(EventRecorder.Patience, TestContext.Current.CancellationToken);
            Assert.IsType<InvalidOperationException>(exception);
            await recorder.WaitForAsync(uuid, DomainEventType.Defined);
            await recorder.WaitForAsync(uuid, DomainEventType.Started);
        }
        finally
        {
            LibvirtEventLoop.CallbackFailed -= OnFailure;
        }
    }

    [Fact]
    public async Task Disposing_the_connection_deregisters_and_frees_the_registration()
    {
        var uuid = Guid.NewGuid();
        var recorder = new EventRecorder();
        var (connection, handler) = SubscribeThenDispose(recorder);

        using (var observer = LibvirtTestHost.OpenTestDriver())
        {
            var barrier = new EventRecorder();
            using var subscription = observer.SubscribeDomainLifecycle(barrier.Record, uuid);
            using (observer.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(observer), uuid)))
            {
            }
            await barrier.WaitForAsync(uuid, DomainEventType.Defined);
        }

        Assert.DoesNotContain(recorder.Seen, e => e.DomainUuid == uuid);
        // The GCHandle behind libvirt's opaque pointer roots the registration, which roots the connection object:
        // both become collectible only once libvirt's free callback has released it.
        for (var attempt = 0; attempt < 50 && (connection.IsAlive || handler.IsAlive); attempt++)
        {
            Collect();
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.False(handler.IsAlive, "the handler is still referenced after the connection was disposed");
        Assert.False(connection.IsAlive, "the registration's GCHandle was not freed");
    }

    [Fact]
    public void Subscribing_on_a_disposed_connection_throws_ObjectDisposedException()
    {
        var connection = LibvirtTestHost.OpenTestDriver();
        connection.Dispose();

        Assert.Throws<ObjectDisposedException>(() => connection.SubscribeDomainLifecycle(_ => { }));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (WeakReference Connection, WeakReference Handler) SubscribeThenDispose(EventRecorder recorder)
    {
        var connection = LibvirtTestHost.OpenTestDriver();
        var handler = SubscribeCollectibleHandler(connection, recorder);
        Collect();
        // Nothing but libvirt's registration refers to the handler: a dropped subscription must keep delivering.
        Assert.True(handler.IsAlive, "the registration does not keep the handler alive");
        connection.Dispose();
        return (new WeakReference(connection), handler);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference SubscribeCollectibleHandler(LibvirtConnection connection, EventRecorder recorder)
    {
        var target = new HandlerTarget(recorder);
        connection.SubscribeDomainLifecycle(target.Record);
        return new WeakReference(target);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private sealed class HandlerTarget(EventRecorder recorder)
    {
        public void Record(DomainLifecycleEvent @event) => recorder.Record(@event);
    }
}
