using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>An error reported by libvirt (virGetLastError), or the library itself missing.</summary>
public sealed class LibvirtException : Exception
{
    public LibvirtException(string message, int code = 0, int domain = 0, Exception? inner = null) : base(message, inner)
    {
        Code = code;
        Domain = domain;
    }

    /// <summary>virErrorNumber (e.g. 38 = VIR_ERR_SYSTEM_ERROR, 42 = VIR_ERR_NO_DOMAIN).</summary>
    public int Code { get; }

    /// <summary>virErrorDomain: which part of libvirt raised it.</summary>
    public int Domain { get; }
}

public sealed record NodeInfo(string CpuModel, ulong MemoryKiB, uint Cpus, uint MHz, uint Nodes, uint Sockets, uint Cores, uint Threads);

internal sealed class ConnectionHandle() : SafeHandleZeroOrMinusOneIsInvalid(ownsHandle: true)
{
    protected override bool ReleaseHandle() => Native.virConnectClose(handle) >= 0;
}

/// <summary>A connection to a libvirt driver (<c>qemu:///system</c>, <c>test:///default</c>, ...).</summary>
public sealed unsafe class LibvirtConnection : IDisposable
{
    private static readonly Lock InitLock = new();
    private static bool _initialized;
    private readonly ConnectionHandle _handle;

    private LibvirtConnection(ConnectionHandle handle, string uri)
    {
        _handle = handle;
        Uri = uri;
    }

    public string Uri { get; }

    public static LibvirtConnection Open(string uri, bool readOnly = false)
    {
        EnsureInitialized();
        var raw = readOnly ? Native.virConnectOpenReadOnly(uri) : Native.virConnectOpen(uri);
        if (raw == IntPtr.Zero)
            throw LastError($"cannot connect to libvirt at {uri}");
        var handle = new ConnectionHandle();
        Marshal.InitHandle(handle, raw);
        return new LibvirtConnection(handle, uri);
    }

    /// <summary>The driver name: <c>QEMU</c>, <c>TEST</c>, ...</summary>
    public string HypervisorType
    {
        get
        {
            var type = Native.virConnectGetType(Handle());
            return type == IntPtr.Zero ? throw LastError("virConnectGetType failed") : Marshal.PtrToStringUTF8(type)!;
        }
    }

    /// <summary>The hypervisor's version, decoded from libvirt's major * 1,000,000 + minor * 1,000 + release.</summary>
    public Version HypervisorVersion
    {
        get
        {
            if (Native.virConnectGetVersion(Handle(), out var version) < 0)
                throw LastError("virConnectGetVersion failed");
            return new Version((int)(version / 1_000_000), (int)(version / 1_000 % 1_000), (int)(version % 1_000));
        }
    }

    public NodeInfo GetNodeInfo()
    {
        if (Native.virNodeGetInfo(Handle(), out var info) < 0)
            throw LastError("virNodeGetInfo failed");
        var model = Marshal.PtrToStringUTF8((IntPtr)info.Model, 32).TrimEnd('\0');
        return new NodeInfo(model, info.MemoryKiB, info.Cpus, info.Mhz, info.Nodes, info.Sockets, info.Cores, info.Threads);
    }

    public void Dispose() => _handle.Dispose();

    private IntPtr Handle()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return _handle.DangerousGetHandle();
    }

    private static void EnsureInitialized()
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

    internal static LibvirtException LastError(string context)
    {
        var error = Native.virGetLastError();
        if (error == IntPtr.Zero)
            return new LibvirtException(context);
        var head = Marshal.PtrToStructure<Native.VirErrorHead>(error);
        var message = head.Message == IntPtr.Zero ? "unknown error" : Marshal.PtrToStringUTF8(head.Message);
        Native.virResetLastError();
        return new LibvirtException($"{context}: {message}", head.Code, head.Domain);
    }
}
