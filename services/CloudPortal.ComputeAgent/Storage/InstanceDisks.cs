using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;

namespace CloudPortal.ComputeAgent.Storage;

/// <summary>
/// Instance root disks: a qcow2 overlay per instance in the instances pool, backed by a cached base image, qcow2 or raw
/// (a raw upload is not converted: it backs overlays as it is). The backing format is always named, from the verified
/// header, so QEMU never probes the base image.
/// </summary>
public sealed class InstanceDisks(StoragePools pools)
{
    public const ulong GiB = 1024UL * 1024 * 1024;

    public static string VolumeName(Guid instanceId) => $"{instanceId:D}.qcow2";

    /// <summary>
    /// Creates the overlay (replacing one left behind by a spawn that died before defining its domain) and returns its
    /// path. The guest sees <paramref name="capacityBytes"/>; the file holds only what the guest writes.
    /// </summary>
    public string CreateOverlay(LibvirtConnection connection, Guid instanceId, BaseImage baseImage, ulong capacityBytes)
    {
        using var pool = pools.Instances(connection);
        var name = VolumeName(instanceId);
        using (var stale = pool.LookupVolumeByName(name))
            stale?.Delete();
        var xml = new XElement("volume",
            new XElement("name", name),
            new XElement("capacity", new XAttribute("unit", "bytes"), capacityBytes),
            new XElement("target", new XElement("format", new XAttribute("type", "qcow2"))),
            new XElement("backingStore",
                new XElement("path", baseImage.Path),
                new XElement("format", new XAttribute("type", baseImage.Format))));
        using var volume = pool.CreateVolume(xml.ToString());
        return volume.GetPath();
    }

    /// <summary>Deletes the instance's overlay; false when there was none. Never touches the base image.</summary>
    public bool DeleteOverlay(LibvirtConnection connection, Guid instanceId)
    {
        using var pool = pools.FindInstances(connection);
        using var volume = pool?.LookupVolumeByName(VolumeName(instanceId));
        if (volume is null)
            return false;
        volume.Delete();
        return true;
    }

    public bool HasOverlay(LibvirtConnection connection, Guid instanceId)
    {
        using var pool = pools.FindInstances(connection);
        using var volume = pool?.LookupVolumeByName(VolumeName(instanceId));
        return volume is not null;
    }
}
