using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>P/Invoke declarations for libvirt's C library (libvirt.so.0, the stable ABI).</summary>
internal static unsafe partial class Native
{
    private const string Library = "libvirt.so.0";

    [LibraryImport(Library)]
    internal static partial int virInitialize();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virConnectOpen(string? name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virConnectOpenReadOnly(string? name);

    [LibraryImport(Library)]
    internal static partial int virConnectClose(IntPtr conn);

    /// <summary>Returns a static string owned by libvirt: never freed by the caller.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virConnectGetType(IntPtr conn);

    [LibraryImport(Library)]
    internal static partial int virConnectGetVersion(IntPtr conn, out ulong hvVer);

    [LibraryImport(Library)]
    internal static partial int virNodeGetInfo(IntPtr conn, out VirNodeInfo info);

    [LibraryImport(Library)]
    internal static partial IntPtr virGetLastError();

    [LibraryImport(Library)]
    internal static partial void virResetLastError();

    [LibraryImport(Library)]
    internal static partial void virSetErrorFunc(IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

    /// <summary>virNodeInfo from libvirt-host.h; <c>unsigned long</c> is 64-bit on LP64 Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirNodeInfo
    {
        public fixed byte Model[32];
        public ulong MemoryKiB;
        public uint Cpus;
        public uint Mhz;
        public uint Nodes;
        public uint Sockets;
        public uint Cores;
        public uint Threads;
    }

    /// <summary>The head of virError from virterror.h: code, domain, message.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirErrorHead
    {
        public int Code;
        public int Domain;
        public IntPtr Message;
    }
}
