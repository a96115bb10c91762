using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// libvirt's default event loop (virEventRegisterDefaultImpl + virEventRunDefaultImpl) on one dedicated background
/// thread per process. Domain events, and keepalive replies to libvirtd, are processed on that thread.
/// </summary>
/// <remarks>
/// The implementation is registered, and the thread started, the first time any connection is opened, whether or
/// not it asks for events. Two reasons: libvirt wires a remote connection to the event loop only if the loop was
/// registered before the connection was opened, so a later subscriber would get nothing; and such a connection
/// negotiates keepalive with libvirtd, which then closes it after about 30 s idle if nothing services the loop
/// (seen here: "client socket is closed"). Registering always and running always avoids both traps.
/// </remarks>
public static unsafe class LibvirtEventLoop
{
    private static readonly Lock Gate = new();
    private static bool _registered;
    private static int _wakeTimer = -1;
    private static Thread? _thread;
    private static volatile bool _stopRequested;

    /// <summary>
    /// A domain event handler threw, or an iteration of the loop failed. Exceptions never cross into libvirt's
    /// native code (that would take the process down), so they end up here. Raised on the event loop thread.
    /// </summary>
    public static event EventHandler<LibvirtCallbackFailedEventArgs>? CallbackFailed;

    public static bool IsRunning
    {
        get
        {
            lock (Gate)
                return _thread is { IsAlive: true } && !_stopRequested;
        }
    }

    /// <summary>Starts the loop if it is not running. <see cref="LibvirtConnection.Open"/> does this itself.</summary>
    public static void Start()
    {
        LibvirtConnection.EnsureInitialized();
        lock (Gate)
        {
            if (!_registered)
            {
                if (Native.virEventRegisterDefaultImpl() < 0)
                    throw LibvirtErrors.Take("virEventRegisterDefaultImpl failed");
                // A disarmed timer that Stop() arms to wake the loop out of poll().
                _wakeTimer = Native.virEventAddTimeout(-1, &OnWake, IntPtr.Zero, IntPtr.Zero);
                if (_wakeTimer < 0)
                    throw LibvirtErrors.Take("virEventAddTimeout failed");
                _registered = true;
            }
            if (_thread is { IsAlive: true })
            {
                if (!_stopRequested)
                    return;
                // A Stop() that timed out: let the old thread finish its iteration before starting another.
                _thread.Join();
            }
            _stopRequested = false;
            _thread = new Thread(Run) { IsBackground = true, Name = "libvirt-event-loop" };
            _thread.Start();
        }
    }

    /// <summary>
    /// Stops the loop thread and waits up to <paramref name="timeout"/> for it to end (true if it did). Meant for
    /// shutdown, after the connections are disposed: until the loop runs again no events are delivered and idle
    /// remote connections may be dropped by libvirtd's keepalive. The next <see cref="LibvirtConnection.Open"/> or
    /// <see cref="Start"/> restarts it. Called from an event handler (on the loop thread itself) it only asks the
    /// loop to end once the handler returns, and returns false.
    /// </summary>
    public static bool Stop(TimeSpan timeout)
    {
        Thread? thread;
        lock (Gate)
        {
            thread = _thread;
            if (thread is null)
                return true;
            _stopRequested = true;
            Native.virEventUpdateTimeout(_wakeTimer, 0);
        }
        if (thread == Thread.CurrentThread)
            return false;
        return thread.Join(timeout);
    }

    internal static void ReportFailure(Exception exception)
    {
        try
        {
            CallbackFailed?.Invoke(null, new LibvirtCallbackFailedEventArgs(exception));
        }
        catch (Exception)
        {
            // The last line of defence before native code: nowhere left to report to.
        }
    }

    private static void Run()
    {
        while (!_stopRequested)
        {
            if (Native.virEventRunDefaultImpl() >= 0)
                continue;
            ReportFailure(LibvirtErrors.Take("virEventRunDefaultImpl failed"));
            // A failing poll() fails again immediately; do not spin a core on it.
            Thread.Sleep(TimeSpan.FromSeconds(1));
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnWake(int timer, IntPtr opaque) => Native.virEventUpdateTimeout(timer, -1);
}

public sealed class LibvirtCallbackFailedEventArgs(Exception exception) : EventArgs
{
    public Exception Exception { get; } = exception;
}
