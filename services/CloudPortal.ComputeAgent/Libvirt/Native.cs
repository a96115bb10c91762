using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// P/Invoke declarations for libvirt's C library (libvirt.so.0, the stable ABI). Pointers to libvirt objects
/// are passed as <see cref="IntPtr"/>: the wrappers hold them in <see cref="LibvirtHandle"/>s and lease them
/// around each call, so that the thread-local error can be read before any release could run virXxxFree
/// (which resets it) on the same thread.
/// </summary>
/// <remarks>
/// Layouts follow /usr/include/libvirt/*.h on LP64 Linux: <c>unsigned long</c> is 64-bit, <c>unsigned long
/// long</c> is 64-bit, <c>int</c> is 32-bit. Strings documented "the caller must free" are returned as
/// <see cref="IntPtr"/> and released with <c>free()</c> (<see cref="NativeMemory.Free"/>).
/// </remarks>
internal static unsafe partial class Native
{
    private const string Library = "libvirt.so.0";

    // ---- library, errors, events -------------------------------------------------------------------------

    [LibraryImport(Library)]
    internal static partial int virInitialize();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virGetVersion(out ulong libVer, string? type, ulong* typeVer);

    [LibraryImport(Library)]
    internal static partial IntPtr virGetLastError();

    [LibraryImport(Library)]
    internal static partial void virResetLastError();

    [LibraryImport(Library)]
    internal static partial void virSetErrorFunc(IntPtr userData, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> handler);

    [LibraryImport(Library)]
    internal static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Library)]
    internal static partial int virEventRunDefaultImpl();

    [LibraryImport(Library)]
    internal static partial int virEventAddTimeout(int frequency, delegate* unmanaged[Cdecl]<int, IntPtr, void> callback, IntPtr opaque, IntPtr freeCallback);

    [LibraryImport(Library)]
    internal static partial void virEventUpdateTimeout(int timer, int frequency);

    // ---- connection ----------------------------------------------------------------------------------------

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
    internal static partial int virConnectGetLibVersion(IntPtr conn, out ulong libVer);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virConnectGetHostname(IntPtr conn);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virConnectGetCapabilities(IntPtr conn);

    [LibraryImport(Library)]
    internal static partial int virConnectIsAlive(IntPtr conn);

    [LibraryImport(Library)]
    internal static partial int virNodeGetInfo(IntPtr conn, out VirNodeInfo info);

    /// <summary>Returns 0 on error (with the error set).</summary>
    [LibraryImport(Library)]
    internal static partial ulong virNodeGetFreeMemory(IntPtr conn);

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventRegisterAny(
        IntPtr conn, IntPtr dom, int eventId, IntPtr callback, IntPtr opaque, delegate* unmanaged[Cdecl]<IntPtr, void> freeCallback);

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventDeregisterAny(IntPtr conn, int callbackId);

    // ---- domains -------------------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virDomainDefineXMLFlags(IntPtr conn, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virDomainLookupByName(IntPtr conn, string name);

    [LibraryImport(Library)]
    internal static partial IntPtr virDomainLookupByUUID(IntPtr conn, byte* uuid);

    [LibraryImport(Library)]
    internal static partial int virConnectListAllDomains(IntPtr conn, out IntPtr* domains, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainFree(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainCreateWithFlags(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainShutdownFlags(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainDestroyFlags(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainReboot(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainReset(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSuspend(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainResume(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainManagedSave(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainHasManagedSaveImage(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainManagedSaveRemove(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainUndefineFlags(IntPtr domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainGetInfo(IntPtr domain, out VirDomainInfo info);

    [LibraryImport(Library)]
    internal static partial int virDomainGetState(IntPtr domain, out int state, out int reason, uint flags);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virDomainGetXMLDesc(IntPtr domain, uint flags);

    /// <summary>Owned by the domain object: valid while it lives, never freed by the caller.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virDomainGetName(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainGetUUID(IntPtr domain, byte* uuid);

    /// <summary>Returns (unsigned)-1 for an inactive domain.</summary>
    [LibraryImport(Library)]
    internal static partial uint virDomainGetID(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainIsActive(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainIsPersistent(IntPtr domain);

    [LibraryImport(Library)]
    internal static partial int virDomainGetAutostart(IntPtr domain, out int autostart);

    [LibraryImport(Library)]
    internal static partial int virDomainSetAutostart(IntPtr domain, int autostart);

    // ---- storage pools -------------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStoragePoolDefineXML(IntPtr conn, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStoragePoolCreateXML(IntPtr conn, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStoragePoolLookupByName(IntPtr conn, string name);

    [LibraryImport(Library)]
    internal static partial int virConnectListAllStoragePools(IntPtr conn, out IntPtr* pools, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolFree(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolCreate(IntPtr pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolBuild(IntPtr pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolRefresh(IntPtr pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolDestroy(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolDelete(IntPtr pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolUndefine(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolGetInfo(IntPtr pool, out VirStoragePoolInfo info);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolIsActive(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolIsPersistent(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolGetAutostart(IntPtr pool, out int autostart);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolSetAutostart(IntPtr pool, int autostart);

    /// <summary>Owned by the pool object.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStoragePoolGetName(IntPtr pool);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolGetUUID(IntPtr pool, byte* uuid);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStoragePoolGetXMLDesc(IntPtr pool, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStoragePoolListAllVolumes(IntPtr pool, out IntPtr* volumes, uint flags);

    // ---- storage volumes -----------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStorageVolCreateXML(IntPtr pool, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStorageVolCreateXMLFrom(IntPtr pool, string xml, IntPtr cloneVolume, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStorageVolLookupByName(IntPtr pool, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr virStorageVolLookupByPath(IntPtr conn, string path);

    [LibraryImport(Library)]
    internal static partial int virStorageVolFree(IntPtr volume);

    /// <summary>Owned by the volume object.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStorageVolGetName(IntPtr volume);

    /// <summary>Owned by the volume object.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStorageVolGetKey(IntPtr volume);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStorageVolGetPath(IntPtr volume);

    [LibraryImport(Library)]
    internal static partial int virStorageVolGetInfo(IntPtr volume, out VirStorageVolInfo info);

    /// <summary>Caller frees.</summary>
    [LibraryImport(Library)]
    internal static partial IntPtr virStorageVolGetXMLDesc(IntPtr volume, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStorageVolResize(IntPtr volume, ulong capacity, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStorageVolDelete(IntPtr volume, uint flags);

    [LibraryImport(Library)]
    internal static partial int virStorageVolWipePattern(IntPtr volume, uint algorithm, uint flags);

    // ---- structs -------------------------------------------------------------------------------------------

    /// <summary>virNodeInfo (libvirt-host.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirNodeInfo
    {
        public fixed byte Model[32];
        public ulong MemoryKiB;     // unsigned long
        public uint Cpus;
        public uint Mhz;
        public uint Nodes;
        public uint Sockets;
        public uint Cores;
        public uint Threads;
    }

    /// <summary>virDomainInfo (libvirt-domain.h): 40 bytes, the char and short padded to 8.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirDomainInfo
    {
        public byte State;          // unsigned char, a virDomainState
        public ulong MaxMemKiB;     // unsigned long
        public ulong MemoryKiB;     // unsigned long
        public ushort NrVirtCpu;    // unsigned short
        public ulong CpuTimeNs;     // unsigned long long
    }

    /// <summary>virStoragePoolInfo (libvirt-storage.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirStoragePoolInfo
    {
        public int State;
        public ulong Capacity;
        public ulong Allocation;
        public ulong Available;
    }

    /// <summary>virStorageVolInfo (libvirt-storage.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirStorageVolInfo
    {
        public int Type;
        public ulong Capacity;
        public ulong Allocation;
    }

    /// <summary>The head of virError (virterror.h): the fields after <c>level</c> are deprecated or rarely set.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct VirErrorHead
    {
        public int Code;
        public int Domain;
        public IntPtr Message;
        public int Level;
    }
}
