using System.Runtime.InteropServices;

namespace CloudPortal.ComputeAgent.Libvirt;

/// <summary>
/// A libvirt storage volume (virStorageVolPtr). Safe to share between threads; every member throws
/// <see cref="LibvirtException"/> on a libvirt failure and <see cref="ObjectDisposedException"/> after
/// <see cref="Dispose"/>. Disposing frees the reference only; <see cref="Delete"/> removes the volume.
/// </summary>
public sealed class LibvirtStorageVolume : IDisposable
{
    internal LibvirtStorageVolume(StorageVolumeHandle handle) => Handle = handle;

    internal StorageVolumeHandle Handle { get; }

    public string Name => ReadOwnedString("virStorageVolGetName", static v => Native.virStorageVolGetName(v));

    /// <summary>The key that identifies the volume across pools (for file volumes: the path at creation).</summary>
    public string Key => ReadOwnedString("virStorageVolGetKey", static v => Native.virStorageVolGetKey(v));

    /// <summary>Where the volume is on the host: the path a domain's <c>&lt;source file=...&gt;</c> uses.</summary>
    public string GetPath()
    {
        using var lease = Handle.Acquire(this);
        var path = Native.virStorageVolGetPath(lease.Pointer);
        return path == IntPtr.Zero ? throw Fail("virStorageVolGetPath", lease.Pointer) : LibvirtErrors.TakeString(path);
    }

    public StorageVolumeInfo GetInfo()
    {
        using var lease = Handle.Acquire(this);
        if (Native.virStorageVolGetInfo(lease.Pointer, out var info) < 0)
            throw Fail("virStorageVolGetInfo", lease.Pointer);
        return new StorageVolumeInfo((StorageVolumeType)info.Type, info.Capacity, info.Allocation);
    }

    public string GetXmlDesc()
    {
        using var lease = Handle.Acquire(this);
        var xml = Native.virStorageVolGetXMLDesc(lease.Pointer, 0);
        return xml == IntPtr.Zero ? throw Fail("virStorageVolGetXMLDesc", lease.Pointer) : LibvirtErrors.TakeString(xml);
    }

    /// <summary>Changes the capacity (bytes); shrinking needs <see cref="StorageVolumeResizeFlags.Shrink"/>.</summary>
    public void Resize(ulong capacityBytes, StorageVolumeResizeFlags flags = StorageVolumeResizeFlags.None) =>
        Run("virStorageVolResize", v => Native.virStorageVolResize(v, capacityBytes, (uint)flags));

    /// <summary>Removes the volume from its pool and the storage. This object can only be disposed afterwards.</summary>
    public void Delete(StorageVolumeDeleteFlags flags = StorageVolumeDeleteFlags.Normal) =>
        Run("virStorageVolDelete", v => Native.virStorageVolDelete(v, (uint)flags));

    /// <summary>Overwrites the volume's data (not supported by every pool type).</summary>
    public void Wipe(StorageVolumeWipeAlgorithm algorithm = StorageVolumeWipeAlgorithm.Zero) =>
        Run("virStorageVolWipePattern", v => Native.virStorageVolWipePattern(v, (uint)algorithm, 0));

    public void Dispose() => Handle.Dispose();

    public override string ToString()
    {
        try
        {
            return $"storage volume {Name}";
        }
        catch (ObjectDisposedException)
        {
            return "storage volume (disposed)";
        }
    }

    private string ReadOwnedString(string function, Func<IntPtr, IntPtr> call)
    {
        using var lease = Handle.Acquire(this);
        var value = call(lease.Pointer);
        // Owned by the volume object: copied while the lease keeps it alive.
        return value == IntPtr.Zero ? throw LibvirtErrors.Take($"{function} failed") : Marshal.PtrToStringUTF8(value)!;
    }

    private void Run(string function, Func<IntPtr, int> call)
    {
        using var lease = Handle.Acquire(this);
        if (call(lease.Pointer) < 0)
            throw Fail(function, lease.Pointer);
    }

    /// <summary>Captures the error first: reading the name is a libvirt call, and would reset it.</summary>
    private static LibvirtException Fail(string function, IntPtr volume)
    {
        var error = LibvirtErrors.Capture();
        var name = Marshal.PtrToStringUTF8(Native.virStorageVolGetName(volume));
        return error.ToException($"{function}({name}) failed");
    }
}
