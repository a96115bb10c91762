using CloudPortal.ComputeAgent.Storage;
using CloudPortal.ComputeAgent.Tests.Agent;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Units;

/// <summary>Formats are detected from the data, with qemu-img as the reference for qcow2.</summary>
public sealed class DiskImageHeaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cp-test-header-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_boot_sector_is_raw_and_its_size_is_its_length()
    {
        var path = Write("boot.raw", GuestImage.Raw());

        Assert.Equal(new DiskImageHeader(DiskFormats.Raw, (ulong)GuestImage.RawBytes, false), DiskImageHeader.Read(path));
    }

    [Fact]
    public void A_qcow2_gives_its_virtual_size_not_its_file_size()
    {
        var path = Write("boot.qcow2", GuestImage.Qcow2());

        Assert.Equal(new DiskImageHeader(DiskFormats.Qcow2, (ulong)GuestImage.RawBytes, false), DiskImageHeader.Read(path));
    }

    [Fact]
    public void A_qcow2_with_a_backing_file_refers_to_other_files()
    {
        GuestImage.Qcow2();
        var path = Path.Combine(_directory, "backed.qcow2");
        Assert.Null(TestImages.QemuImg("create", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", path, "8M"));

        var header = DiskImageHeader.Read(path);

        Assert.Equal((DiskFormats.Qcow2, 8UL * 1024 * 1024, true), (header.Format, header.VirtualSizeBytes, header.RefersToOtherFiles));
    }

    [Fact]
    public void Other_formats_are_named_so_they_are_never_booted_as_raw()
    {
        var vmdk = new byte[512];
        "KDMV"u8.CopyTo(vmdk);
        var vdi = new byte[512];
        new byte[] { 0x7F, 0x10, 0xDA, 0xBE }.CopyTo(vdi, 64);

        Assert.Equal("vmdk", DiskImageHeader.Read(Write("a.vmdk", vmdk)).Format);
        Assert.Equal("vdi", DiskImageHeader.Read(Write("a.vdi", vdi)).Format);
        // Headers that name other files or hide the data: never a raw base image, whatever the command says.
        Assert.Equal("luks", DiskImageHeader.Read(Write("a.luks", [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE, 0, 1])).Format);
        Assert.Equal("vmdk", DiskImageHeader.Read(Write("a.vmdk.txt", "# Disk DescriptorFile\nRW 2048 FLAT \"/etc/shadow\" 0\n"u8.ToArray())).Format);
        Assert.Equal("parallels", DiskImageHeader.Read(Write("a.hdd", "WithoutFreeSpace\0\0\0\0"u8.ToArray())).Format);
        Assert.Equal(DiskFormats.Raw, DiskImageHeader.Read(Write("empty", [])).Format);
    }

    private string Write(string name, byte[] data)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, data);
        return path;
    }
}
