using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// A libvirt storage pool (virStoragePoolPtr). Safe to share between threads; every member throws
/// <see cref="LibvirtException"/> on a libvirt failure and <see cref="ObjectDisposedException"/> after
/// <see cref="Dispose"/>. Disposing frees the reference only.
/// </summary>
public sealed unsafe class LibvirtStoragePool : IDisposable
{
    private const uint XmlInactive = 1;
    private readonly StoragePoolHandle _handle;

    internal LibvirtStoragePool(StoragePoolHandle handle) => _handle = handle;

    public string Name
    {
        get
        {
            using var lease = _handle.Acquire(this);
            var name = Native.virStoragePoolGetName(lease.Pointer);
            return name == IntPtr.Zero ? throw LibvirtErrors.Take("virStoragePoolGetName failed") : Marshal.PtrToStringUTF8(name)!;
        }
    }

    public Guid Uuid => ReadUuid();

    /// <summary>Starts (activates) a defined pool; with a build flag, builds it first.</summary>
    public void Start(StoragePoolCreateFlags flags = StoragePoolCreateFlags.None) =>
        Run("virStoragePoolCreate", p => Native.virStoragePoolCreate(p, (uint)flags));

    /// <summary>Prepares the underlying storage (for a directory pool: creates the directory).</summary>
    public void Build(StoragePoolBuildFlags flags = StoragePoolBuildFlags.New) =>
        Run("virStoragePoolBuild", p => Native.virStoragePoolBuild(p, (uint)flags));

    /// <summary>Rescans the storage: files added behind libvirt's back become volumes.</summary>
    public void Refresh() => Run("virStoragePoolRefresh", static p => Native.virStoragePoolRefresh(p, 0));

    /// <summary>Deactivates the pool; its data stays. A transient pool disappears.</summary>
    public void Destroy() => Run("virStoragePoolDestroy", static p => Native.virStoragePoolDestroy(p));

    /// <summary>Deletes the underlying storage of an inactive pool (for a directory pool: removes the empty directory).</summary>
    public void Delete() => Run("virStoragePoolDelete", static p => Native.virStoragePoolDelete(p, 0));

    /// <summary>Removes the definition of an inactive persistent pool.</summary>
    public void Undefine() => Run("virStoragePoolUndefine", static p => Native.virStoragePoolUndefine(p));

    public StoragePoolInfo GetInfo()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virStoragePoolGetInfo(lease.Pointer, out var info) < 0)
            throw Fail("virStoragePoolGetInfo", lease.Pointer);
        return new StoragePoolInfo((StoragePoolState)info.State, info.Capacity, info.Allocation, info.Available);
    }

    public bool IsActive() => Ask("virStoragePoolIsActive", static p => Native.virStoragePoolIsActive(p));

    public bool IsPersistent() => Ask("virStoragePoolIsPersistent", static p => Native.virStoragePoolIsPersistent(p));

    public bool GetAutostart()
    {
        using var lease = _handle.Acquire(this);
        if (Native.virStoragePoolGetAutostart(lease.Pointer, out var autostart) < 0)
            throw Fail("virStoragePoolGetAutostart", lease.Pointer);
        return autostart != 0;
    }

    public void SetAutostart(bool autostart) =>
        Run("virStoragePoolSetAutostart", p => Native.virStoragePoolSetAutostart(p, autostart ? 1 : 0));

    /// <summary>The XML; <paramref name="inactive"/> asks for the persistent definition rather than the live one.</summary>
    public string GetXmlDesc(bool inactive = false)
    {
        using var lease = _handle.Acquire(this);
        var xml = Native.virStoragePoolGetXMLDesc(lease.Pointer, inactive ? XmlInactive : 0);
        return xml == IntPtr.Zero ? throw Fail("virStoragePoolGetXMLDesc", lease.Pointer) : LibvirtErrors.TakeString(xml);
    }

    /// <summary>
    /// Creates a volume from its XML. For a qcow2 overlay the XML names the base image in
    /// <c>&lt;backingStore&gt;&lt;path&gt;...&lt;/path&gt;&lt;format type='raw|qcow2'/&gt;&lt;/backingStore&gt;</c>.
    /// </summary>
    public LibvirtStorageVolume CreateVolume(string xml, StorageVolumeCreateFlags flags = StorageVolumeCreateFlags.None)
    {
        ArgumentNullException.ThrowIfNull(xml);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStorageVolCreateXML(lease.Pointer, xml, (uint)flags);
        return raw == IntPtr.Zero ? throw Fail("virStorageVolCreateXML", lease.Pointer) : new LibvirtStorageVolume(LibvirtHandle.Wrap<StorageVolumeHandle>(raw));
    }

    /// <summary>Creates a volume as a full copy of <paramref name="source"/> (any pool), converting format if the XML asks.</summary>
    public LibvirtStorageVolume CreateVolumeFrom(string xml, LibvirtStorageVolume source, StorageVolumeCreateFlags flags = StorageVolumeCreateFlags.None)
    {
        ArgumentNullException.ThrowIfNull(xml);
        ArgumentNullException.ThrowIfNull(source);
        using var lease = _handle.Acquire(this);
        using var sourceLease = source.Handle.Acquire(source);
        var raw = Native.virStorageVolCreateXMLFrom(lease.Pointer, xml, sourceLease.Pointer, (uint)flags);
        return raw == IntPtr.Zero ? throw Fail("virStorageVolCreateXMLFrom", lease.Pointer) : new LibvirtStorageVolume(LibvirtHandle.Wrap<StorageVolumeHandle>(raw));
    }

    /// <summary>The volume, or null when the pool has none by that name.</summary>
    public LibvirtStorageVolume? LookupVolumeByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        using var lease = _handle.Acquire(this);
        var raw = Native.virStorageVolLookupByName(lease.Pointer, name);
        if (raw != IntPtr.Zero)
            return new LibvirtStorageVolume(LibvirtHandle.Wrap<StorageVolumeHandle>(raw));
        var error = LibvirtErrors.TakeUnlessNotFound($"virStorageVolLookupByName({name}) failed", LibvirtErrorCode.NoStorageVolume);
        return error is null ? null : throw error;
    }

    /// <summary>Every volume of the (active) pool. The caller disposes each one.</summary>
    public IReadOnlyList<LibvirtStorageVolume> ListAllVolumes()
    {
        using var lease = _handle.Acquire(this);
        var count = Native.virStoragePoolListAllVolumes(lease.Pointer, out var items, 0);
        if (count < 0)
            throw Fail("virStoragePoolListAllVolumes", lease.Pointer);
        return LibvirtConnection.TakeArray(items, count, &Native.virStorageVolFree,
            raw => new LibvirtStorageVolume(LibvirtHandle.Wrap<StorageVolumeHandle>(raw)));
    }

    public void Dispose() => _handle.Dispose();

    public override string ToString()
    {
        try
        {
            return $"storage pool {Name}";
        }
        catch (ObjectDisposedException)
        {
            return "storage pool (disposed)";
        }
    }

    private Guid ReadUuid()
    {
        var bytes = stackalloc byte[16];
        using var lease = _handle.Acquire(this);
        if (Native.virStoragePoolGetUUID(lease.Pointer, bytes) < 0)
            throw Fail("virStoragePoolGetUUID", lease.Pointer);
        return new Guid(new ReadOnlySpan<byte>(bytes, 16), bigEndian: true);
    }

    private void Run(string function, Func<IntPtr, int> call)
    {
        using var lease = _handle.Acquire(this);
        if (call(lease.Pointer) < 0)
            throw Fail(function, lease.Pointer);
    }

    private bool Ask(string function, Func<IntPtr, int> call)
    {
        using var lease = _handle.Acquire(this);
        var result = call(lease.Pointer);
        return result < 0 ? throw Fail(function, lease.Pointer) : result == 1;
    }

    /// <summary>Captures the error first: reading the name is a libvirt call, and would reset it.</summary>
    private static LibvirtException Fail(string function, IntPtr pool)
    {
        var error = LibvirtErrors.Capture();
        var name = Marshal.PtrToStringUTF8(Native.virStoragePoolGetName(pool));
        return error.ToException($"{function}({name}) failed");
    }
}
