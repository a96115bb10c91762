using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>virDomainEventType: what happened to a domain.</summary>
public enum DomainEventType
{
    Defined = 0,
    Undefined = 1,
    Started = 2,
    Suspended = 3,
    Resumed = 4,
    Stopped = 5,
    Shutdown = 6,
    PMSuspended = 7,
    Crashed = 8,
}

/// <summary>
/// A VIR_DOMAIN_EVENT_ID_LIFECYCLE event. <paramref name="Detail"/> is the per-type detail enum of libvirt-domain.h
/// (for <see cref="DomainEventType.Stopped"/>: 0 shutdown, 1 destroyed, 2 crashed, 3 migrated, 4 saved, 5 failed, ...).
/// </summary>
public sealed record DomainLifecycleEvent(Guid DomainUuid, string DomainName, DomainEventType Type, int Detail);

/// <summary>
/// One libvirt lifecycle registration per connection, fanned out to any number of managed subscribers.
/// libvirt refuses a second registration of the same callback function for the same connection and domain
/// ("event callback already tracked"), so per-subscriber registrations of one static callback cannot work.
/// </summary>
internal sealed unsafe class DomainLifecycleHub(ConnectionHandle connection, object owner)
{
    private const int EventIdLifecycle = 0;
    private readonly Lock _gate = new();
    private Subscription[] _subscribers = [];
    private Registration? _registration;
    private bool _closed;

    internal IDisposable Subscribe(Action<DomainLifecycleEvent> handler, Guid? domain)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, owner);
            _registration ??= Register();
            var subscription = new Subscription(this, handler, domain);
            Volatile.Write(ref _subscribers, [.. _subscribers, subscription]);
            return subscription;
        }
    }

    /// <summary>Deregisters from libvirt; called by the connection before it releases its handle.</summary>
    internal void Close()
    {
        lock (_gate)
        {
            if (_closed)
                return;
            _closed = true;
            foreach (var subscriber in _subscribers)
                subscriber.Deactivate();
            Volatile.Write(ref _subscribers, []);
            Deregister();
        }
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            Volatile.Write(ref _subscribers, [.. _subscribers.Where(s => s != subscription)]);
            // Nobody listening: stop libvirtd from sending events over the wire at all.
            if (_subscribers.Length == 0 && !_closed)
                Deregister();
        }
    }

    private Registration Register()
    {
        using var lease = connection.Acquire(owner);
        var registration = new Registration(this);
        var callback = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, int, IntPtr, int>)&OnLifecycle;
        var id = Native.virConnectDomainEventRegisterAny(
            lease.Pointer, IntPtr.Zero, EventIdLifecycle, (IntPtr)callback, registration.Opaque, &OnFree);
        if (id < 0)
        {
            var error = LibvirtErrors.Take("virConnectDomainEventRegisterAny failed");
            // libvirt calls the free callback only for registrations it accepted.
            registration.Free();
            throw error;
        }
        registration.CallbackId = id;
        return registration;
    }

    private void Deregister()
    {
        if (_registration is not { } registration)
            return;
        _registration = null;
        registration.Active = false;
        try
        {
            using var lease = connection.Acquire(owner);
            if (Native.virConnectDomainEventDeregisterAny(lease.Pointer, registration.CallbackId) < 0)
                LibvirtEventLoop.ReportFailure(LibvirtErrors.Take("virConnectDomainEventDeregisterAny failed"));
        }
        catch (ObjectDisposedException)
        {
            // Only if the handle went first, which LibvirtConnection.Dispose never lets happen: it closes the hub first.
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnLifecycle(IntPtr conn, IntPtr domain, int eventType, int detail, IntPtr opaque)
    {
        try
        {
            if (GCHandle.FromIntPtr(opaque).Target is not Registration { Active: true } registration)
                return 0;
            var subscribers = Volatile.Read(ref registration.Hub._subscribers);
            if (subscribers.Length == 0)
                return 0;
            // The domain pointer is libvirt's, valid only during this call: copy what we need now.
            var uuid = stackalloc byte[16];
            if (Native.virDomainGetUUID(domain, uuid) < 0)
                throw LibvirtErrors.Take("virDomainGetUUID failed in a lifecycle event");
            var name = Marshal.PtrToStringUTF8(Native.virDomainGetName(domain)) ?? "";
            var @event = new DomainLifecycleEvent(new Guid(new ReadOnlySpan<byte>(uuid, 16), bigEndian: true), name,
                (DomainEventType)eventType, detail);
            foreach (var subscriber in subscribers)
                subscriber.Deliver(@event);
        }
        catch (Exception ex)
        {
            LibvirtEventLoop.ReportFailure(ex);
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnFree(IntPtr opaque)
    {
        try
        {
            if (GCHandle.FromIntPtr(opaque).Target is Registration registration)
                registration.Free();
        }
        catch (Exception ex)
        {
            LibvirtEventLoop.ReportFailure(ex);
        }
    }

    /// <summary>The object libvirt's opaque pointer refers to, kept alive by a GCHandle until libvirt frees it.</summary>
    private sealed class Registration
    {
        private GCHandle _self;
        private int _freed;

        public Registration(DomainLifecycleHub hub)
        {
            Hub = hub;
            _self = GCHandle.Alloc(this);
        }

        public DomainLifecycleHub Hub { get; }

        public IntPtr Opaque => GCHandle.ToIntPtr(_self);

        public int CallbackId { get; set; } = -1;

        public volatile bool Active = true;

        public void Free()
        {
            if (Interlocked.Exchange(ref _freed, 1) == 0)
                _self.Free();
        }
    }

    private sealed class Subscription(DomainLifecycleHub hub, Action<DomainLifecycleEvent> handler, Guid? domain) : IDisposable
    {
        private int _active = 1;

        public void Deliver(DomainLifecycleEvent @event)
        {
            // Checked per delivery, so nothing new reaches the handler once Dispose has returned, even from a dispatch
            // libvirt had already started.
            if (Volatile.Read(ref _active) == 0 || (domain is { } only && only != @event.DomainUuid))
                return;
            try
            {
                handler(@event);
            }
            catch (Exception ex)
            {
                LibvirtEventLoop.ReportFailure(ex);
            }
        }

        public void Deactivate() => Volatile.Write(ref _active, 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _active, 0) == 1)
                hub.Unsubscribe(this);
        }
    }
}
