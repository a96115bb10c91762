using System.Buffers.Binary;
using System.Text;

namespace CloudPortal.Images.Inspection;

/// <summary>What the bytes say an image is, and why it must be refused if it must.</summary>
public sealed record DetectedFormat(string Format, long? VirtualSize, string? RefusalCode = null, string? RefusalReason = null)
{
    public bool Refused => RefusalCode is not null;
}

/// <summary>
/// Detects an image's format from its content, never from its name, following each format's
/// specification: qcow2 (QEMU docs/interop/qcow2.txt), VHDX ("vhdxfile" signature), VMDK (sparse
/// "KDMV" header or a text descriptor), ISO 9660 ("CD001" in the primary volume descriptor at sector 16),
/// VHD ("conectix" footer), and a few formats we do not accept (QED, VDI, LUKS). Anything else is raw.
/// It also refuses what would let an image reach outside itself: qcow2 backing files and external data
/// files, VMDK descriptors with extents in other files or a parent, differencing VHDs.
/// </summary>
public static class FormatDetector
{
    /// <summary>Bytes read from the start: enough for every header and the ISO descriptor at 0x8000.</summary>
    public const int HeadLength = 64 * 1024;

    private const uint Qcow2Magic = 0x514649fb; // "QFI\xfb"
    private const ulong Qcow2IncompatibleExternalData = 1UL << 2;
    private const uint Qcow2ExtensionExternalData = 0x44415441; // "DATA"
    private const uint Qcow2ExtensionBackingFormat = 0xe2792aca;

    public static DetectedFormat Detect(Stream image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var length = image.Length;
        var head = new byte[(int)Math.Min(HeadLength, length)];
        image.Position = 0;
        image.ReadExactly(head);
        byte[] tail = [];
        if (length >= 512)
        {
            tail = new byte[512];
            image.Position = length - 512;
            image.ReadExactly(tail);
        }
        return Detect(head, tail, length);
    }

    /// <param name="head">The first bytes of the image (up to <see cref="HeadLength"/>).</param>
    /// <param name="tail">The last 512 bytes (the VHD footer), or empty for a shorter image.</param>
    public static DetectedFormat Detect(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail, long length)
    {
        if (head.Length >= 4 && BinaryPrimitives.ReadUInt32BigEndian(head) == Qcow2Magic)
            return Qcow2(head);
        if (StartsWith(head, 0, "vhdxfile"))
            return new DetectedFormat(DiskFormats.Vhdx, null);
        if (StartsWith(head, 0, "KDMV"))
            return SparseVmdk(head);
        if (StartsWith(head, 0, "# Disk DescriptorFile"))
            return Refuse(DiskFormats.Vmdk, "vmdk_external_extent", "The data is a VMDK descriptor, whose extents are other files; upload a monolithic sparse or stream-optimized VMDK.");
        if (StartsWith(head, 0, "QED\0"))
            return Refuse("qed", "unsupported_disk_format", "The data is a QED image, which the catalog does not accept.");
        if (StartsWith(head, 0, "LUKS\xba\xbe"))
            return Refuse("luks", "unsupported_disk_format", "The data is a LUKS-encrypted volume, which the catalog does not accept.");
        if (head.Length >= 0x44 && BinaryPrimitives.ReadUInt32LittleEndian(head[0x40..]) == 0xbeda107f)
            return Refuse("vdi", "unsupported_disk_format", "The data is a VirtualBox VDI image, which the catalog does not accept; convert it to qcow2 first.");
        if (StartsWith(head, 0x8001, "CD001") || StartsWith(head, 0x9001, "CD001"))
            return Iso(head);
        if (StartsWith(tail, 0, "conectix"))
            return Vhd(tail);
        if (StartsWith(head, 0, "conectix"))
            return Vhd(head);
        return new DetectedFormat(DiskFormats.Raw, length);
    }

    private static DetectedFormat Qcow2(ReadOnlySpan<byte> h)
    {
        if (h.Length < 72)
            return Refuse(DiskFormats.Qcow2, "image_invalid", "The qcow2 header is truncated.");
        var version = BinaryPrimitives.ReadUInt32BigEndian(h[4..]);
        if (version is not (2 or 3))
            return Refuse(DiskFormats.Qcow2, "image_invalid", $"qcow2 version {version} is not supported (2 or 3).");
        var backingOffset = BinaryPrimitives.ReadUInt64BigEndian(h[8..]);
        var backingSize = BinaryPrimitives.ReadUInt32BigEndian(h[16..]);
        var size = (long)BinaryPrimitives.ReadUInt64BigEndian(h[24..]);
        var cryptMethod = BinaryPrimitives.ReadUInt32BigEndian(h[32..]);
        if (backingOffset != 0 || backingSize != 0)
            return Refuse(DiskFormats.Qcow2, "qcow2_backing_file", "The qcow2 image has a backing file: it would read another file on the compute node. Flatten it (qemu-img convert -O qcow2) before uploading.", size);
        if (cryptMethod != 0)
            return Refuse(DiskFormats.Qcow2, "image_encrypted", "The qcow2 image is encrypted; compute nodes cannot boot it.", size);

        var headerLength = 72;
        if (version == 3)
        {
            if (h.Length < 104)
                return Refuse(DiskFormats.Qcow2, "image_invalid", "The qcow2 v3 header is truncated.", size);
            var incompatible = BinaryPrimitives.ReadUInt64BigEndian(h[72..]);
            if ((incompatible & Qcow2IncompatibleExternalData) != 0)
                return Refuse(DiskFormats.Qcow2, "qcow2_data_file", "The qcow2 image keeps its data in an external data file: it would read another file on the compute node.", size);
            headerLength = (int)BinaryPrimitives.ReadUInt32BigEndian(h[100..]);
            if (headerLength < 104 || headerLength > h.Length)
                return Refuse(DiskFormats.Qcow2, "image_invalid", $"The qcow2 header length {headerLength} is invalid.", size);
        }

        // Header extensions follow the header, each 8-byte aligned, until an end marker (type 0).
        var offset = headerLength;
        while (offset + 8 <= h.Length)
        {
            var type = BinaryPrimitives.ReadUInt32BigEndian(h[offset..]);
            var length = BinaryPrimitives.ReadUInt32BigEndian(h[(offset + 4)..]);
            if (type == 0)
                break;
            if (type == Qcow2ExtensionExternalData)
                return Refuse(DiskFormats.Qcow2, "qcow2_data_file", "The qcow2 image names an external data file: it would read another file on the compute node.", size);
            if (type == Qcow2ExtensionBackingFormat)
                return Refuse(DiskFormats.Qcow2, "qcow2_backing_file", "The qcow2 image names a backing file format: it would read another file on the compute node.", size);
            if (length > h.Length)
                break;
            offset += 8 + (int)((length + 7) & ~7u);
        }
        return new DetectedFormat(DiskFormats.Qcow2, size);
    }

    private static DetectedFormat SparseVmdk(ReadOnlySpan<byte> h)
    {
        if (h.Length < 512)
            return Refuse(DiskFormats.Vmdk, "image_invalid", "The VMDK header is truncated.");
        var capacity = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[12..]) * 512;
        var descriptorOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[28..]) * 512;
        var descriptorSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(h[36..]) * 512;
        if (descriptorOffset == 0 || descriptorSize == 0)
            return new DetectedFormat(DiskFormats.Vmdk, capacity); // stream-optimized images may keep it elsewhere; qemu-img checks the extents
        if (descriptorOffset + Math.Min(descriptorSize, 8192) > h.Length)
            return Refuse(DiskFormats.Vmdk, "image_invalid", "The VMDK descriptor lies outside the first 64 KiB.", capacity);
        var text = Encoding.ASCII.GetString(h.Slice((int)descriptorOffset, (int)Math.Min(descriptorSize, 8192))).TrimEnd('\0');
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("createType", StringComparison.OrdinalIgnoreCase))
            {
                var type = line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim().Trim('"');
                if (type is not ("monolithicSparse" or "streamOptimized"))
                    return Refuse(DiskFormats.Vmdk, "vmdk_external_extent", $"VMDK create type '{type}' keeps data in other files; only monolithicSparse and streamOptimized are accepted.", capacity);
            }
            else if (line.StartsWith("parentFileNameHint", StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(DiskFormats.Vmdk, "vmdk_parent", "The VMDK image is a delta disk with a parent: it would read another file on the compute node.", capacity);
            }
        }
        return new DetectedFormat(DiskFormats.Vmdk, capacity);
    }

    private static DetectedFormat Iso(ReadOnlySpan<byte> h)
    {
        long? size = null;
        if (h.Length >= 0x8082 && StartsWith(h, 0x8001, "CD001"))
            size = (long)BinaryPrimitives.ReadUInt32LittleEndian(h[0x8050..]) * BinaryPrimitives.ReadUInt16LittleEndian(h[0x8080..]);
        return new DetectedFormat(DiskFormats.Iso, size);
    }

    private static DetectedFormat Vhd(ReadOnlySpan<byte> footer)
    {
        var size = (long)BinaryPrimitives.ReadUInt64BigEndian(footer[48..]);
        var type = BinaryPrimitives.ReadUInt32BigEndian(footer[60..]);
        return type switch
        {
            2 or 3 => new DetectedFormat(DiskFormats.Vhd, size),
            4 => Refuse(DiskFormats.Vhd, "vhd_parent", "The VHD is a differencing disk with a parent: it would read another file on the compute node.", size),
            _ => Refuse(DiskFormats.Vhd, "image_invalid", $"VHD disk type {type} is not fixed or dynamic.", size),
        };
    }

    private static DetectedFormat Refuse(string format, string code, string reason, long? size = null) => new(format, size, code, reason);

    private static bool StartsWith(ReadOnlySpan<byte> data, int offset, string ascii)
    {
        if (offset + ascii.Length > data.Length)
            return false;
        for (var i = 0; i < ascii.Length; i++)
        {
            if (data[offset + i] != (byte)ascii[i])
                return false;
        }
        return true;
    }
}
