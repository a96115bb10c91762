using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// A libvirt object reference (virConnectPtr, virDomainPtr, ...), released exactly once. Calls go through
/// <see cref="Acquire"/> rather than SafeHandle parameters: the lease keeps the pointer alive until the caller
/// has read libvirt's thread-local error, whereas a marshaller-managed release could run virXxxFree on this
/// thread first and wipe that error.
/// </summary>
internal abstract class LibvirtHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    private volatile bool _disposed;

    /// <summary>Pins the handle for one native call (and reading what it returned).</summary>
    internal Lease Acquire(object owner)
    {
        // SafeHandle only refuses new references once the count drops to zero, which calls overlapping on other
        // threads can postpone indefinitely; this flag makes Dispose refuse new calls at once.
        ObjectDisposedException.ThrowIf(_disposed, owner);
        var added = false;
        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(owner.GetType().Name);
        }
        if (_disposed)
        {
            DangerousRelease();
            throw new ObjectDisposedException(owner.GetType().Name);
        }
        return new Lease(this);
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        base.Dispose(disposing);
    }

    internal static T Wrap<T>(IntPtr raw) where T : LibvirtHandle, new()
    {
        var handle = new T();
        Marshal.InitHandle(handle, raw);
        return handle;
    }

    internal readonly ref struct Lease
    {
        private readonly LibvirtHandle _handle;

        internal Lease(LibvirtHandle handle)
        {
            _handle = handle;
            Pointer = handle.DangerousGetHandle();
        }

        public IntPtr Pointer { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}

internal sealed class ConnectionHandle : LibvirtHandle
{
    // virConnectClose returns the remaining reference count: domains, pools and volumes keep the connection open.
    protected override bool ReleaseHandle() => Native.virConnectClose(handle) >= 0;
}

internal sealed class DomainHandle : LibvirtHandle
{
    protected override bool ReleaseHandle() => Native.virDomainFree(handle) == 0;
}

internal sealed class StoragePoolHandle : LibvirtHandle
{
    protected override bool ReleaseHandle() => Native.virStoragePoolFree(handle) == 0;
}

internal sealed class StorageVolumeHandle : LibvirtHandle
{
    protected override bool ReleaseHandle() => Native.virStorageVolFree(handle) == 0;
}
