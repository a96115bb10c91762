using System.Buffers.Binary;
using System.Text;
using CloudPortal.Images.Inspection;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>Format detection from the bytes alone, against headers written from each format's specification.</summary>
public sealed class FormatDetectorTests
{
    private static byte[] Qcow2Header(uint version = 3, ulong backingOffset = 0, uint backingSize = 0, ulong incompatible = 0, uint cryptMethod = 0, byte[]? extension = null)
    {
        var h = new byte[65536];
        BinaryPrimitives.WriteUInt32BigEndian(h, 0x514649fb);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(4), version);
        BinaryPrimitives.WriteUInt64BigEndian(h.AsSpan(8), backingOffset);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(16), backingSize);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(20), 16);
        BinaryPrimitives.WriteUInt64BigEndian(h.AsSpan(24), 1UL << 30);
        BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(32), cryptMethod);
        var headerLength = version == 3 ? 104 : 72;
        if (version == 3)
        {
            BinaryPrimitives.WriteUInt64BigEndian(h.AsSpan(72), incompatible);
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(96), 4);
            BinaryPrimitives.WriteUInt32BigEndian(h.AsSpan(100), (uint)headerLength);
        }
        extension?.CopyTo(h, headerLength);
        return h;
    }

    private static DetectedFormat Detect(byte[] head, byte[]? tail = null, long? length = null) =>
        FormatDetector.Detect(head, tail ?? [], length ?? head.Length);

    [Fact]
    public void A_qcow2_header_is_qcow2_with_its_virtual_size()
    {
        var detected = Detect(Qcow2Header());
        Assert.Equal("qcow2", detected.Format);
        Assert.False(detected.Refused);
        Assert.Equal(1L << 30, detected.VirtualSize);
        Assert.Equal("qcow2", Detect(Qcow2Header(version: 2)).Format);
    }

    [Fact]
    public void A_qcow2_with_a_backing_file_is_refused()
    {
        Assert.Equal("qcow2_backing_file", Detect(Qcow2Header(backingOffset: 0x200, backingSize: 10)).RefusalCode);
        Assert.Equal("qcow2_backing_file", Detect(Qcow2Header(version: 2, backingOffset: 0x200, backingSize: 10)).RefusalCode);
    }

    [Fact]
    public void A_qcow2_with_an_external_data_file_is_refused_by_feature_bit_or_header_extension()
    {
        Assert.Equal("qcow2_data_file", Detect(Qcow2Header(incompatible: 1UL << 2)).RefusalCode);
        var extension = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(extension, 0x44415441);
        BinaryPrimitives.WriteUInt32BigEndian(extension.AsSpan(4), 8);
        Encoding.ASCII.GetBytes("data.raw").CopyTo(extension, 8);
        Assert.Equal("qcow2_data_file", Detect(Qcow2Header(extension: extension)).RefusalCode);
    }

    [Fact]
    public void Encrypted_truncated_and_unknown_version_qcow2_are_refused()
    {
        Assert.Equal("image_encrypted", Detect(Qcow2Header(cryptMethod: 1)).RefusalCode);
        Assert.Equal("image_invalid", Detect(Qcow2Header()[..40]).RefusalCode);
        Assert.Equal("image_invalid", Detect(Qcow2Header(version: 7)).RefusalCode);
    }

    [Fact]
    public void An_iso_9660_volume_is_iso()
    {
        var iso = new byte[65536];
        iso[0x8000] = 1;
        Encoding.ASCII.GetBytes("CD001").CopyTo(iso, 0x8001);
        BinaryPrimitives.WriteInt32LittleEndian(iso.AsSpan(0x8050), 32);
        BinaryPrimitives.WriteInt16LittleEndian(iso.AsSpan(0x8080), 2048);
        var detected = Detect(iso);
        Assert.Equal("iso", detected.Format);
        Assert.Equal(32 * 2048, detected.VirtualSize);
    }

    [Fact]
    public void Vmdk_sparse_is_accepted_but_descriptors_and_delta_disks_are_refused()
    {
        Assert.Equal("vmdk", Detect(Vmdk("createType=\"monolithicSparse\"\n")).Format);
        Assert.False(Detect(Vmdk("createType=\"streamOptimized\"\n")).Refused);
        Assert.Equal("vmdk_external_extent", Detect(Vmdk("createType=\"twoGbMaxExtentSparse\"\n")).RefusalCode);
        Assert.Equal("vmdk_parent", Detect(Vmdk("createType=\"monolithicSparse\"\nparentFileNameHint=\"base.vmdk\"\n")).RefusalCode);
        Assert.Equal("vmdk_external_extent", Detect(Encoding.ASCII.GetBytes("# Disk DescriptorFile\nversion=1\nRW 100 FLAT \"other.img\" 0\n")).RefusalCode);
    }

    private static byte[] Vmdk(string descriptor)
    {
        var h = new byte[65536];
        Encoding.ASCII.GetBytes("KDMV").CopyTo(h, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(12), 2048);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(28), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(36), 20);
        Encoding.ASCII.GetBytes("# Disk DescriptorFile\n" + descriptor).CopyTo(h, 512);
        return h;
    }

    [Fact]
    public void Vhd_footers_and_vhdx_signatures_are_recognised_and_differencing_vhd_refused()
    {
        Assert.Equal("vhdx", Detect(Encoding.ASCII.GetBytes("vhdxfile" + new string('\0', 100))).Format);
        Assert.Equal("vhd", Detect(new byte[4096], VhdFooter(2), 4096 + 512).Format);
        Assert.Equal("vhd", Detect(VhdFooter(3).Concat(new byte[4096]).ToArray()).Format);
        Assert.Equal("vhd_parent", Detect(new byte[4096], VhdFooter(4), 4096 + 512).RefusalCode);
    }

    private static byte[] VhdFooter(uint type)
    {
        var footer = new byte[512];
        Encoding.ASCII.GetBytes("conectix").CopyTo(footer, 0);
        BinaryPrimitives.WriteUInt64BigEndian(footer.AsSpan(48), 1 << 20);
        BinaryPrimitives.WriteUInt32BigEndian(footer.AsSpan(60), type);
        return footer;
    }

    [Fact]
    public void Formats_the_catalog_does_not_take_are_refused_and_anything_else_is_raw()
    {
        Assert.Equal("unsupported_disk_format", Detect(Encoding.ASCII.GetBytes("QED\0" + new string('\0', 100))).RefusalCode);
        Assert.Equal("unsupported_disk_format", Detect(Encoding.Latin1.GetBytes("LUKS\xba\xbe" + new string('\0', 100))).RefusalCode);
        var vdi = new byte[512];
        BinaryPrimitives.WriteUInt32LittleEndian(vdi.AsSpan(0x40), 0xbeda107f);
        Assert.Equal("unsupported_disk_format", Detect(vdi).RefusalCode);
        var boot = GuestImage.Raw();
        var raw = FormatDetector.Detect(new MemoryStream(boot));
        Assert.Equal("raw", raw.Format);
        Assert.Equal(boot.Length, raw.VirtualSize);
    }

    [Fact]
    public void The_name_never_matters_only_the_bytes()
    {
        // Same bytes, whatever they are called: detection has no name to look at, and a declared format must match.
        Assert.True(DiskFormats.Matches("raw", "iso"));
        Assert.False(DiskFormats.Matches("raw", "qcow2"));
        Assert.False(DiskFormats.Matches("iso", "raw"));
        Assert.False(DiskFormats.Matches("qcow2", "raw"));
    }

    [Fact]
    public void Qemu_img_output_with_a_backing_file_data_file_or_foreign_extent_is_refused()
    {
        var detected = new DetectedFormat("qcow2", 1);
        Assert.Equal("qcow2", ImageInspector.Check(detected, "qcow2", "/x", """{"format":"qcow2","virtual-size":1048576}""").Format);
        Assert.Equal("qcow2_backing_file", Assert.Throws<IntakeRefusedException>(() =>
            ImageInspector.Check(detected, "qcow2", "/x", """{"format":"qcow2","backing-filename":"/etc/passwd"}""")).Code);
        Assert.Equal("qcow2_data_file", Assert.Throws<IntakeRefusedException>(() =>
            ImageInspector.Check(detected, "qcow2", "/x", """{"format":"qcow2","format-specific":{"type":"qcow2","data":{"data-file":"/dev/sda"}}}""")).Code);
        Assert.Equal("vmdk_external_extent", Assert.Throws<IntakeRefusedException>(() =>
            ImageInspector.Check(new DetectedFormat("vmdk", 1), "vmdk", "/x", """{"format":"vmdk","format-specific":{"type":"vmdk","data":{"extents":[{"filename":"/etc/shadow"}]}}}""")).Code);
        Assert.Equal("disk_format_mismatch", Assert.Throws<IntakeRefusedException>(() =>
            ImageInspector.Check(detected, "qcow2", "/x", """{"format":"raw"}""")).Code);
    }

    [Fact]
    public async Task Images_made_by_qemu_img_are_detected_as_what_they_are()
    {
        using var images = TestImages.Create();
        Assert.Equal("qcow2", DetectFile(await images.Qcow2Async()).Format);
        Assert.Equal("vmdk", DetectFile(await images.VmdkAsync()).Format);
        Assert.Equal("iso", DetectFile(images.Iso()).Format);
        Assert.Equal("raw", DetectFile(images.Raw()).Format);
        Assert.Equal("qcow2_backing_file", DetectFile(await images.Qcow2WithBackingFileAsync()).RefusalCode);
    }

    private static DetectedFormat DetectFile(string path)
    {
        using var file = File.OpenRead(path);
        return FormatDetector.Detect(file);
    }
}
