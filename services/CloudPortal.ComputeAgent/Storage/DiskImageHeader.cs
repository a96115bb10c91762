using System.Buffers.Binary;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.ComputeAgent.Storage;

/// <summary>
/// What a disk image's first bytes say it is. The format is detected, never taken from the command alone: booting a
/// qcow2 as raw, or following a qcow2's backing file to a host file, would hand the guest data it must not see.
/// </summary>
/// <param name="Format"><c>raw</c>, <c>qcow2</c>, or the name of another format the agent does not boot.</param>
/// <param name="VirtualSizeBytes">The size of the disk the guest sees.</param>
/// <param name="RefersToOtherFiles">A qcow2 with a backing file or an external data file.</param>
public sealed record DiskImageHeader(string Format, ulong VirtualSizeBytes, bool RefersToOtherFiles)
{
    private const uint Qcow2Magic = 0x514649FB;             // "QFI\xfb"
    private const ulong Qcow2ExternalDataFile = 1UL << 2;    // incompatible feature bit

    public static DiskImageHeader Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var header = new byte[512];
        var read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        var bytes = header.AsSpan(0, read);
        if (read >= 32 && BinaryPrimitives.ReadUInt32BigEndian(bytes) == Qcow2Magic)
        {
            var version = BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]);
            var backingFileOffset = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
            var size = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
            var incompatible = version >= 3 && read >= 80 ? BinaryPrimitives.ReadUInt64BigEndian(bytes[72..]) : 0;
            return new DiskImageHeader(DiskFormats.Qcow2, size, backingFileOffset != 0 || (incompatible & Qcow2ExternalDataFile) != 0);
        }
        return new DiskImageHeader(OtherFormat(bytes) ?? DiskFormats.Raw, (ulong)file.Length, RefersToOtherFiles: false);
    }

    /// <summary>
    /// Formats qemu would recognise, so that one of them declared as raw is refused rather than cached as a raw base: a
    /// raw image backs overlays as it is, and anything with a header of its own (a backing file, extents, encryption)
    /// must never reach the node as "raw". The agent names the backing format, so QEMU would not probe it anyway; this
    /// keeps the catalog's promise checked on the node too.
    /// </summary>
    private static string? OtherFormat(ReadOnlySpan<byte> bytes)
    {
        static bool At(ReadOnlySpan<byte> b, int offset, ReadOnlySpan<byte> magic) => b.Length >= offset + magic.Length && b.Slice(offset, magic.Length).SequenceEqual(magic);
        if (At(bytes, 0, "QED\0"u8))
            return "qed";
        if (At(bytes, 0, "KDMV"u8))
            return "vmdk";
        if (At(bytes, 0, "vhdxfile"u8))
            return "vhdx";
        if (At(bytes, 0, "conectix"u8))
            return "vpc";
        if (At(bytes, 64, [0x7F, 0x10, 0xDA, 0xBE]))
            return "vdi";
        if (At(bytes, 0, [0x4C, 0x55, 0x4B, 0x53, 0xBA, 0xBE]))   // "LUKS\xba\xbe"
            return "luks";
        if (At(bytes, 0, "# Disk DescriptorFile"u8))
            return "vmdk";      // a text descriptor naming extent files
        if (At(bytes, 0, "WithoutFreeSpace"u8) || At(bytes, 0, "WithouFreSpacExt"u8))
            return "parallels";
        if (At(bytes, 0, "Bochs Virtual HD Image"u8))
            return "bochs";
        if (At(bytes, 0, "#!/bin/sh\n#V2.0 Format\n"u8))
            return "cloop";
        return null;
    }
}
