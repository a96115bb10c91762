using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Storage pools and volumes against libvirt's simulated driver (which touches no files).</summary>
public sealed class TestDriverStorageTests : IDisposable
{
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    private static string PoolXml(string name) => $"""
        <pool type='dir'>
          <name>{name}</name>
          <target><path>/{name}</path></target>
        </pool>
        """;

    private static string VolumeXml(string name, ulong bytes) => $"""
        <volume>
          <name>{name}</name>
          <capacity unit='bytes'>{bytes}</capacity>
          <target><format type='qcow2'/></target>
        </volume>
        """;

    [Fact]
    public void Defines_starts_stops_and_undefines_a_pool()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Pool(connection);

        using var pool = connection.DefineStoragePool(PoolXml(name));
        Assert.Equal(name, pool.Name);
        Assert.False(pool.IsActive());
        Assert.True(pool.IsPersistent());
        Assert.Equal(StoragePoolState.Inactive, pool.GetInfo().State);

        pool.Build();
        pool.Start();
        Assert.True(pool.IsActive());
        pool.Refresh();
        var info = pool.GetInfo();
        Assert.Equal(StoragePoolState.Running, info.State);
        Assert.True(info.CapacityBytes > 0);
        Assert.Equal(info.CapacityBytes, info.AllocationBytes + info.AvailableBytes);

        pool.Destroy();
        Assert.False(pool.IsActive());
        pool.Undefine();
        Assert.Null(connection.LookupStoragePoolByName(name));
    }

    [Fact]
    public void Looks_up_pools_by_name_lists_them_and_returns_null_when_missing()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Pool(connection);
        using var defined = connection.DefineStoragePool(PoolXml(name));

        using var found = connection.LookupStoragePoolByName(name);
        var inactive = connection.ListAllStoragePools(StoragePoolListFlags.Inactive);
        var inactiveNames = inactive.Select(p => p.Name).ToList();
        foreach (var pool in inactive)
            pool.Dispose();

        Assert.Equal(defined.Uuid, found?.Uuid);
        Assert.Equal(name, (string?)XDocument.Parse(found!.GetXmlDesc()).Root!.Element("name"));
        Assert.Contains(name, inactiveNames);
        Assert.Null(connection.LookupStoragePoolByName(LibvirtLeftovers.UniqueName("missing")));
    }

    [Fact]
    public void Autostart_of_a_pool_can_be_switched_on_and_off()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var pool = connection.DefineStoragePool(PoolXml(_leftovers.Pool(connection)));

        pool.SetAutostart(true);
        Assert.True(pool.GetAutostart());
        pool.SetAutostart(false);
        Assert.False(pool.GetAutostart());
    }

    [Fact]
    public void Transient_pool_disappears_when_destroyed()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Pool(connection);

        using var pool = connection.CreateStoragePool(PoolXml(name));
        Assert.True(pool.IsActive());
        Assert.False(pool.IsPersistent());
        pool.Destroy();

        Assert.Null(connection.LookupStoragePoolByName(name));
    }

    [Fact]
    public void Creates_finds_lists_and_deletes_volumes()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var poolName = _leftovers.Pool(connection);
        using var pool = connection.DefineStoragePool(PoolXml(poolName));
        pool.Start();

        using var volume = pool.CreateVolume(VolumeXml("disk.qcow2", 1024 * 1024));
        using var copy = pool.CreateVolumeFrom(VolumeXml("copy.qcow2", 1024 * 1024), volume);

        Assert.Equal("disk.qcow2", volume.Name);
        Assert.Equal($"/{poolName}/disk.qcow2", volume.GetPath());
        Assert.Equal(volume.GetPath(), volume.Key);
        Assert.Equal(new StorageVolumeInfo(StorageVolumeType.File, 1024 * 1024, volume.GetInfo().AllocationBytes), volume.GetInfo());
        Assert.Equal("disk.qcow2", (string?)XDocument.Parse(volume.GetXmlDesc()).Root!.Element("name"));
        using (var byName = pool.LookupVolumeByName("disk.qcow2"))
            Assert.Equal(volume.Key, byName?.Key);
        using (var byPath = connection.LookupStorageVolumeByPath(volume.GetPath()))
            Assert.Equal("disk.qcow2", byPath?.Name);
        var listed = pool.ListAllVolumes();
        Assert.Equal(["copy.qcow2", "disk.qcow2"], listed.Select(v => v.Name).Order(StringComparer.Ordinal));
        foreach (var v in listed)
            v.Dispose();

        volume.Delete();

        Assert.Null(pool.LookupVolumeByName("disk.qcow2"));
        Assert.Null(connection.LookupStorageVolumeByPath($"/{poolName}/disk.qcow2"));
    }

    [Fact]
    public void Operations_the_driver_lacks_fail_with_no_support()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var pool = connection.DefineStoragePool(PoolXml(_leftovers.Pool(connection)));
        pool.Start();
        using var volume = pool.CreateVolume(VolumeXml("disk.qcow2", 1024 * 1024));

        var resize = Assert.Throws<LibvirtException>(() => volume.Resize(2 * 1024 * 1024));
        var wipe = Assert.Throws<LibvirtException>(() => volume.Wipe());

        Assert.Equal(LibvirtErrorCode.NoSupport, resize.ErrorCode);
        Assert.Contains("disk.qcow2", resize.Message, StringComparison.Ordinal);
        Assert.Equal(LibvirtErrorCode.NoSupport, wipe.ErrorCode);
    }

    [Fact]
    public void Creating_a_volume_that_exists_fails()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var pool = connection.DefineStoragePool(PoolXml(_leftovers.Pool(connection)));
        pool.Start();
        using var volume = pool.CreateVolume(VolumeXml("disk.qcow2", 1024 * 1024));

        var error = Assert.Throws<LibvirtException>(() => pool.CreateVolume(VolumeXml("disk.qcow2", 1024 * 1024)));

        Assert.Equal(LibvirtErrorCode.OperationFailed, error.ErrorCode);
        Assert.Contains("already exists", error.LibvirtMessage, StringComparison.Ordinal);
    }
}
