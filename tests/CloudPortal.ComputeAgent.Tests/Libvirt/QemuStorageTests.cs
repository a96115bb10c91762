using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>A real directory pool under qemu:///system: files on disk, qemu-img behind the volumes.</summary>
public sealed class QemuStorageTests : IDisposable
{
    private const ulong MiB = 1024 * 1024;
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    internal static string DirectoryPoolXml(string name, string path) => $"""
        <pool type='dir'>
          <name>{name}</name>
          <target><path>{path}</path></target>
        </pool>
        """;

    internal static string OverlayXml(string name, ulong capacityBytes, string backingPath) => $"""
        <volume>
          <name>{name}</name>
          <capacity unit='bytes'>{capacityBytes}</capacity>
          <target><format type='qcow2'/></target>
          <backingStore>
            <path>{backingPath}</path>
            <format type='raw'/>
          </backingStore>
        </volume>
        """;

    [Fact]
    public void Builds_a_directory_pool_and_removes_it_with_its_directory()
    {
        using var connection = LibvirtTestHost.OpenQemu();
        var path = Path.Combine(_leftovers.Directory(), "pool");
        var name = _leftovers.Pool(connection);

        using var pool = connection.DefineStoragePool(DirectoryPoolXml(name, path));
        pool.Build();
        Assert.True(Directory.Exists(path));
        pool.Start();
        pool.SetAutostart(true);
        Assert.True(pool.GetAutostart());
        var info = pool.GetInfo();
        Assert.Equal(StoragePoolState.Running, info.State);
        Assert.True(info.CapacityBytes > 0 && info.AvailableBytes <= info.CapacityBytes);
        using (var listed = connection.LookupStoragePoolByName(name))
            Assert.Equal(pool.Uuid, listed?.Uuid);

        pool.Destroy();
        pool.Delete();
        pool.Undefine();

        Assert.False(Directory.Exists(path));
        Assert.Null(connection.LookupStoragePoolByName(name));
    }

    [Fact]
    public void Creates_a_qcow2_overlay_on_a_raw_image_and_resizes_it()
    {
        using var connection = LibvirtTestHost.OpenQemu();
        using var pool = StartedPool(connection, out var path);
        using var raw = pool.CreateVolume($"""
            <volume><name>boot.raw</name><capacity unit='bytes'>{MiB}</capacity><target><format type='raw'/></target></volume>
            """);
        File.WriteAllBytes(raw.GetPath(), GuestImage.Raw());

        using var overlay = pool.CreateVolume(OverlayXml("disk.qcow2", MiB, raw.GetPath()));

        Assert.Equal(Path.Combine(path, "disk.qcow2"), overlay.GetPath());
        var xml = XDocument.Parse(overlay.GetXmlDesc()).Root!;
        Assert.Equal("qcow2", (string?)xml.Element("target")!.Element("format")!.Attribute("type"));
        Assert.Equal(raw.GetPath(), (string?)xml.Element("backingStore")!.Element("path"));
        Assert.Equal(MiB, overlay.GetInfo().CapacityBytes);
        // A fresh overlay holds metadata only: far smaller than the image it stands on.
        Assert.True(overlay.GetInfo().AllocationBytes < MiB);
        using (var byPath = connection.LookupStorageVolumeByPath(overlay.GetPath()))
            Assert.Equal("disk.qcow2", byPath?.Name);

        overlay.Resize(2 * MiB);

        Assert.Equal(2 * MiB, overlay.GetInfo().CapacityBytes);
        Assert.Equal(MiB, raw.GetInfo().CapacityBytes);
    }

    [Fact]
    public void Wipes_and_deletes_volumes_on_disk()
    {
        using var connection = LibvirtTestHost.OpenQemu();
        using var pool = StartedPool(connection, out _);
        using var raw = pool.CreateVolume($"""
            <volume><name>data.raw</name><capacity unit='bytes'>{MiB}</capacity><target><format type='raw'/></target></volume>
            """);
        var file = raw.GetPath();
        File.WriteAllBytes(file, GuestImage.Raw());

        raw.Wipe();

        var wiped = File.ReadAllBytes(file);
        Assert.Equal(GuestImage.RawBytes, wiped.Length);
        Assert.All(wiped.Take(512), b => Assert.Equal(0, b));

        raw.Delete();

        Assert.False(File.Exists(file));
        Assert.Null(pool.LookupVolumeByName("data.raw"));
        Assert.Empty(pool.ListAllVolumes());
    }

    private LibvirtStoragePool StartedPool(LibvirtConnection connection, out string path)
    {
        path = Path.Combine(_leftovers.Directory(), "pool");
        var pool = connection.DefineStoragePool(DirectoryPoolXml(_leftovers.Pool(connection), path));
        pool.Start(StoragePoolCreateFlags.WithBuild);
        return pool;
    }
}
