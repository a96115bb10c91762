using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

public sealed record NodeInfo(string CpuModel, ulong MemoryKiB, uint Cpus, uint MHz, uint Nodes, uint Sockets, uint Cores, uint Threads);

/// <summary>
/// A connection to a libvirt driver (<c>qemu:///system</c>, <c>test:///default</c>, ...). Safe to share between
/// threads, as libvirt connections are; every member throws <see cref="LibvirtException"/> on a libvirt failure
/// and <see cref="ObjectDisposedException"/> after <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Domains, pools and volumes obtained from a connection hold their own libvirt reference to it: they stay usable
/// after the connection object is disposed, and the underlying connection closes when the last of them is.
/// </remarks>
public sealed unsafe class LibvirtConnection : IDisposable
{
    private static readonly Lock InitLock = new();
    private static bool _initialized;
    private readonly ConnectionHandle _handle;
    private readonly DomainLifecycleHub _lifecycle;

    private LibvirtConnection(ConnectionHandle handle, string uri)
    {
        _handle = handle;
        _lifecycle = new DomainLifecycleHub(handle, this);
        Uri = uri;
    }

    public string Uri { get; }

    /// <summary>
    /// Opens a connection; read-only connections may query but not change anything. Starts the process-wide
    /// <see cref="LibvirtEventLoop"/> first, so that every connection can deliver events.
    /// </summary>
    public static LibvirtConnection Open(string uri, bool readOnly = false)
    {
        ArgumentNullException.ThrowIfNull(uri);
        LibvirtEventLoop.Start();
        var raw = readOnly ? Native.virConnectOpenReadOnly(uri) : Native.virConnectOpen(uri);
        if (raw == IntPtr.Zero)
            throw LibvirtErrors.Take($"cannot connect to libvirt at {uri}");
        return new LibvirtConnection(LibvirtHandle.Wrap<ConnectionHandle>(raw), uri);
    }

    /// <summary>The version of the libvirt library loaded into this process.</summary>
    public static Version GetClientLibraryVersion()
    {
        EnsureInitialized();
        if (Native.virGetVersion(out var version, null, null) < 0)
            throw LibvirtErrors.Take("virGetVersion failed");
        return LibvirtErrors.DecodeVersion(version);
    }

    /// <summary>The driver name: <c>QEMU</c>, <c>TEST</c>, ...</summary>
    public string HypervisorType
    {
        get
        {
            using var lease = _handle.Acquire(this);
            var type = Native.virConnectGetType(lease.Pointer);
            return type == IntPtr.Zero ? throw LibvirtErrors.Take("virConnectGetType failed") : Marshal.PtrToStringUTF8(type)!;
        }
    }

    /// <summary>The hypervisor's version, decoded from libvirt's major * 1,000,000 + minor * 1,000 + release.</summary>
    public Version HypervisorVersion
    {
        get
        {
            using var lease = _handle.Acquire(this);
            if (Native.virConnectGetVersion(lease.Pointer, out var version) < 0)
                throw LibvirtErrors.Take("virConnectGetVersion failed");
            return LibvirtErrors.DecodeVersion(version);
        }
    }

    /// <summary>The libvirt version serving this connection (libvirtd's, for a remote driver).</summary>
    public Version GetLibraryVersion()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virConnectGetLibVersion(lease.Pointer, out var version) < 0)
            throw LibvirtErrors.Take("virConnectGetLibVersion failed");
        return LibvirtErrors.DecodeVersion(version);
    }

    public NodeInfo GetNodeInfo()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virNodeGetInfo(lease.Pointer, out var info) < 0)
            throw LibvirtErrors.Take("virNodeGetInfo failed");
        var model = Marshal.PtrToStringUTF8((IntPtr)info.Model, 32).TrimEnd('\0');
        return new NodeInfo(model, info.MemoryKiB, info.Cpus, info.Mhz, info.Nodes, info.Sockets, info.Cores, info.Threads);
    }

    /// <summary>Free memory on the node, in bytes (virNodeGetFreeMemory).</summary>
    public ulong GetFreeMemoryBytes()
    {
        using var lease = _handle.Acquire(this);
        var free = Native.virNodeGetFreeMemory(lease.Pointer);
        // 0 is libvirt's error value; a node with truly no free memory would not be answering.
        return free == 0 ? throw LibvirtErrors.Take("virNodeGetFreeMemory failed") : free;
    }

    /// <summary>The capabilities XML: host CPU, NUMA, and which guest architectures and domain types run here.</summary>
    public string GetCapabilities()
    {
        using var lease = _handle.Acquire(this);
        var xml = Native.virConnectGetCapabilities(lease.Pointer);
        return xml == IntPtr.Zero ? throw LibvirtErrors.Take("virConnectGetCapabilities failed") : LibvirtErrors.TakeString(xml);
    }

    public string GetHostname()
    {
        using var lease = _handle.Acquire(this);
        var name = Native.virConnectGetHostname(lease.Pointer);
        return name == IntPtr.Zero ? throw LibvirtErrors.Take("virConnectGetHostname failed") : LibvirtErrors.TakeString(name);
    }

    /// <summary>False once a remote connection has lost libvirtd (a local driver is always alive).</summary>
    public bool IsAlive()
    {
        using var lease = _handle.Acquire(this);
        var alive = Native.virConnectIsAlive(lease.Pointer);
        return alive < 0 ? throw LibvirtErrors.Take("virConnectIsAlive failed") : alive == 1;
    }

    // ---- domains -------------------------------------------------------------------------------------------

    /// <summary>Defines (or redefines, same name and UUID) a persistent domain; it stays shut off.</summary>
    public LibvirtDomain DefineDomain(string xml, DomainDefineFlags flags = DomainDefineFlags.None)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var lease = _handle.Acquire(this);
        var raw = Native.virDomainDefineXMLFlags(lease.Pointer, xml, (uint)flags);
        return raw == IntPtr.Zero ? throw LibvirtErrors.Take("virDomainDefineXML failed") : new LibvirtDomain(LibvirtHandle.Wrap<DomainHandle>(raw));
    }

    /// <summary>The domain, or null when there is none by that name.</summary>
    public LibvirtDomain? LookupDomainByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var lease = _handle.Acquire(this);
        var raw = Native.virDomainLookupByName(lease.Pointer, name);
        if (raw != IntPtr.Zero)
            return new LibvirtDomain(LibvirtHandle.Wrap<DomainHandle>(raw));
        var error = LibvirtErrors.TakeUnlessNotFound($"virDomainLookupByName({name}) failed", LibvirtErrorCode.NoDomain);
        return error is null ? null : throw error;
    }

    /// <summary>The domain, or null when there is none with that UUID.</summary>
    public LibvirtDomain? LookupDomainByUuid(Guid uuid)
    {
        var bytes = stackalloc byte[16];
        uuid.TryWriteBytes(new Span<byte>(bytes, 16), bigEndian: true, out _);
        using var lease = _handle.Acquire(this);
        var raw = Native.virDomainLookupByUUID(lease.Pointer, bytes);
        if (raw != IntPtr.Zero)
            return new LibvirtDomain(LibvirtHandle.Wrap<DomainHandle>(raw));
        var error = LibvirtErrors.TakeUnlessNotFound($"virDomainLookupByUUID({uuid}) failed", LibvirtErrorCode.NoDomain);
        return error is null ? null : throw error;
    }

    /// <summary>All domains matching <paramref name="flags"/> (none: every domain). The caller disposes each one.</summary>
    public IReadOnlyList<LibvirtDomain> ListAllDomains(DomainListFlags flags = DomainListFlags.None)
    {
        using var lease = _handle.Acquire(this);
        var count = Native.virConnectListAllDomains(lease.Pointer, out var items, (uint)flags);
        if (count < 0)
            throw LibvirtErrors.Take("virConnectListAllDomains failed");
        return TakeArray(items, count, &Native.virDomainFree, raw => new LibvirtDomain(LibvirtHandle.Wrap<DomainHandle>(raw)));
    }

    // ---- storage -------------------------------------------------------------------------------------------

    /// <summary>Defines a persistent pool; it is neither built nor started.</summary>
    public LibvirtStoragePool DefineStoragePool(string xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStoragePoolDefineXML(lease.Pointer, xml, 0);
        return raw == IntPtr.Zero ? throw LibvirtErrors.Take("virStoragePoolDefineXML failed") : new LibvirtStoragePool(LibvirtHandle.Wrap<StoragePoolHandle>(raw));
    }

    /// <summary>Creates and starts a transient pool: it disappears when destroyed.</summary>
    public LibvirtStoragePool CreateStoragePool(string xml, StoragePoolCreateFlags flags = StoragePoolCreateFlags.None)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStoragePoolCreateXML(lease.Pointer, xml, (uint)flags);
        return raw == IntPtr.Zero ? throw LibvirtErrors.Take("virStoragePoolCreateXML failed") : new LibvirtStoragePool(LibvirtHandle.Wrap<StoragePoolHandle>(raw));
    }

    /// <summary>The pool, or null when there is none by that name.</summary>
    public LibvirtStoragePool? LookupStoragePoolByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStoragePoolLookupByName(lease.Pointer, name);
        if (raw != IntPtr.Zero)
            return new LibvirtStoragePool(LibvirtHandle.Wrap<StoragePoolHandle>(raw));
        var error = LibvirtErrors.TakeUnlessNotFound($"virStoragePoolLookupByName({name}) failed", LibvirtErrorCode.NoStoragePool);
        return error is null ? null : throw error;
    }

    /// <summary>All pools matching <paramref name="flags"/> (none: every pool). The caller disposes each one.</summary>
    public IReadOnlyList<LibvirtStoragePool> ListAllStoragePools(StoragePoolListFlags flags = StoragePoolListFlags.None)
    {
        using var lease = _handle.Acquire(this);
        var count = Native.virConnectListAllStoragePools(lease.Pointer, out var items, (uint)flags);
        if (count < 0)
            throw LibvirtErrors.Take("virConnectListAllStoragePools failed");
        return TakeArray(items, count, &Native.virStoragePoolFree, raw => new LibvirtStoragePool(LibvirtHandle.Wrap<StoragePoolHandle>(raw)));
    }

    /// <summary>The volume at <paramref name="path"/> in any active pool, or null when no pool has it.</summary>
    public LibvirtStorageVolume? LookupStorageVolumeByPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStorageVolLookupByPath(lease.Pointer, path);
        if (raw != IntPtr.Zero)
            return new LibvirtStorageVolume(LibvirtHandle.Wrap<StorageVolumeHandle>(raw));
        var error = LibvirtErrors.TakeUnlessNotFound($"virStorageVolLookupByPath({path}) failed", LibvirtErrorCode.NoStorageVolume);
        return error is null ? null : throw error;
    }

    // ---- events --------------------------------------------------------------------------------------------

    /// <summary>
    /// Calls <paramref name="handler"/> for every lifecycle event of <paramref name="domain"/> (null: of every
    /// domain) until the returned subscription or this connection is disposed. The handler runs on the
    /// <see cref="LibvirtEventLoop"/> thread, one event at a time and in order; keep it short (hand work to a
    /// queue), since no other event or keepalive is processed while it runs. Exceptions it throws go to
    /// <see cref="LibvirtEventLoop.CallbackFailed"/>. A live subscription keeps the handler and this connection
    /// reachable (libvirt holds them), so an abandoned one leaks until the connection is disposed.
    /// </summary>
    public IDisposable SubscribeDomainLifecycle(Action<DomainLifecycleEvent> handler, Guid? domain = null) =>
        _lifecycle.Subscribe(handler, domain);

    public void Dispose()
    {
        // Registrations hold a libvirt reference to the connection: without this it would never close.
        _lifecycle.Close();
        _handle.Dispose();
    }

    internal static List<T> TakeArray<T>(IntPtr* items, int count, delegate*<IntPtr, int> free, Func<IntPtr, T> wrap)
    {
        var result = new List<T>(count);
        var taken = 0;
        try
        {
            for (; taken < count; taken++)
                result.Add(wrap(items[taken]));
            return result;
        }
        finally
        {
            // Elements already wrapped are owned by their handles; the rest (only after a failure) are freed here.
            for (var i = taken; i < count; i++)
                free(items[i]);
            NativeMemory.Free(items);
        }
    }

    internal static void EnsureInitialized()
    {
        lock (InitLock)
        {
            if (_initialized)
                return;
            try
            {
                if (Native.virInitialize() < 0)
                    throw new LibvirtException("virInitialize failed");
                // Without this libvirt prints every error to stderr; we report them through exceptions instead.
                Native.virSetErrorFunc(IntPtr.Zero, &IgnoreError);
            }
            catch (DllNotFoundException ex)
            {
                throw new LibvirtException("libvirt is not installed (libvirt.so.0 not found; install the libvirt0 package)", inner: ex);
            }
            _initialized = true;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void IgnoreError(IntPtr userData, IntPtr error)
    {
    }
}
