using System.Buffers.Binary;
using System.Text;
using CloudPortal.Testing;

namespace CloudPortal.Images.Tests;

/// <summary>
/// Images made on the spot: the 1 MiB boot-sector disk of TESTING.md (raw, from <see cref="GuestImage"/>), and from it qcow2, VMDK, a qcow2
/// overlay with a backing file (qemu-img), and a minimal ISO 9660 volume written byte by byte. Removed on dispose.
/// </summary>
public sealed class TestImages : IDisposable
{
    private TestImages(string directory) => Directory = directory;

    public string Directory { get; }

    public static TestImages Create()
    {
        if (!File.Exists("/usr/bin/qemu-img"))
            TestEnvironment.Unavailable("qemu-img", "not installed; apt-get install qemu-utils");
        var directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"cloudportal-images-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        return new TestImages(directory);
    }

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    /// <summary>The boot-sector guest (<see cref="GuestImage.Raw"/>) as a file.</summary>
    public string Raw(string name = "boot.raw")
    {
        var path = Path(name);
        File.WriteAllBytes(path, GuestImage.Raw());
        return path;
    }

    public async Task<string> Qcow2Async(string name = "boot.qcow2") => await ConvertAsync(Raw(name + ".raw"), "qcow2", name);

    public async Task<string> VmdkAsync(string name = "boot.vmdk") => await ConvertAsync(Raw(name + ".raw"), "vmdk", name);

    /// <summary>
    /// A 2 MiB VMDK full of data (the boot sector, then random bytes): qemu-img converts it in many steps, so its
    /// <c>-p</c> progress passes through values between 0 and 100 (the mostly empty boot disk jumps from 0 to 100).
    /// </summary>
    public async Task<string> FullVmdkAsync(string name = "full.vmdk")
    {
        var data = new byte[2 << 20];
        System.Security.Cryptography.RandomNumberGenerator.Fill(data);
        GuestImage.Raw().AsSpan(0, 512).CopyTo(data);
        var raw = Path(name + ".raw");
        await File.WriteAllBytesAsync(raw, data);
        return await ConvertAsync(raw, "vmdk", name);
    }

    /// <summary>A qcow2 whose backing file is another qcow2: refused at intake.</summary>
    public async Task<string> Qcow2WithBackingFileAsync()
    {
        var backing = await Qcow2Async("base.qcow2");
        var overlay = Path("overlay.qcow2");
        await QemuImgAsync("create", "-f", "qcow2", "-b", backing, "-F", "qcow2", overlay);
        return overlay;
    }

    /// <summary>
    /// A 64 KiB qcow2 (one header cluster; the tables it names lie past the end of the file, which qemu reads as zeros)
    /// whose header announces the largest L1 table qemu accepts (32 MiB: 4 Mi entries) and the largest refcount table
    /// (8 MiB: 128 clusters). <c>qemu-img info</c> allocates both on open, so it needs about 40 MiB more than for an
    /// ordinary image: an amplification of over 600 times, the kind of header the address-space limit exists for.
    /// Measured with qemu-img 7.2 under prlimit: an ordinary small qcow2 opens with 48 MiB of address space, this one
    /// needs over 80 MiB. No qcow2 header makes qemu 7.2 need more than the default 1 GiB (its table sizes are capped),
    /// so tests lower the limit to 64 MiB, between the two.
    /// </summary>
    public string Qcow2WithHugeTables(string name = "huge-tables.qcow2")
    {
        const int cluster = 1 << 16;
        const uint refcountClusters = 128;
        const uint l1Entries = 32 * 1024 * 1024 / 8;
        var header = new byte[cluster];
        var h = header.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(h, 0x514649fb);                        // magic "QFI\xfb"
        BinaryPrimitives.WriteUInt32BigEndian(h[4..], 3);                            // version
        BinaryPrimitives.WriteUInt32BigEndian(h[20..], 16);                          // cluster_bits: 64 KiB clusters
        BinaryPrimitives.WriteUInt64BigEndian(h[24..], 1 << 20);                     // size: 1 MiB virtual
        BinaryPrimitives.WriteUInt32BigEndian(h[36..], l1Entries);                   // l1_size
        BinaryPrimitives.WriteUInt64BigEndian(h[40..], (1 + refcountClusters) * cluster); // l1_table_offset, after the refcount table
        BinaryPrimitives.WriteUInt64BigEndian(h[48..], cluster);                     // refcount_table_offset
        BinaryPrimitives.WriteUInt32BigEndian(h[56..], refcountClusters);            // refcount_table_clusters
        BinaryPrimitives.WriteUInt32BigEndian(h[96..], 4);                           // refcount_order: 16-bit refcounts
        BinaryPrimitives.WriteUInt32BigEndian(h[100..], 104);                        // header_length; an end-of-extensions marker (zeros) follows
        var path = Path(name);
        File.WriteAllBytes(path, header);
        return path;
    }

    /// <summary>A qcow2 header qemu refuses as malformed (an L1 table offset that is not cluster-aligned): an ordinary unreadable image.</summary>
    public string Qcow2WithMisalignedL1Table(string name = "misaligned.qcow2")
    {
        var path = Qcow2WithHugeTables(name);
        var header = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(36), 1);
        BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(40), 1000);
        File.WriteAllBytes(path, header);
        return path;
    }

    private async Task<string> ConvertAsync(string raw, string format, string name)
    {
        var target = Path(name);
        await QemuImgAsync("convert", "-f", "raw", "-O", format, raw, target);
        return target;
    }

    /// <summary>A minimal ISO 9660 volume: 16 empty system sectors, a primary volume descriptor, a terminator, data.</summary>
    public string Iso(string name = "boot.iso")
    {
        const int sector = 2048;
        const int sectors = 64;
        var iso = new byte[sector * sectors];
        var pvd = iso.AsSpan(16 * sector, sector);
        pvd[0] = 1;
        Encoding.ASCII.GetBytes("CD001").CopyTo(pvd[1..]);
        pvd[6] = 1;
        Encoding.ASCII.GetBytes(new string(' ', 32)).CopyTo(pvd[8..]);
        Encoding.ASCII.GetBytes("CLOUDPORTAL".PadRight(32)).CopyTo(pvd[40..]);
        BothEndian32(pvd[80..], sectors);
        BothEndian16(pvd[120..], 1);
        BothEndian16(pvd[124..], 1);
        BothEndian16(pvd[128..], sector);
        // Root directory record: 34 bytes, extent at sector 18, one sector long.
        var root = pvd.Slice(156, 34);
        root[0] = 34;
        BothEndian32(root[2..], 18);
        BothEndian32(root[10..], sector);
        root[25] = 2; // directory
        BothEndian16(root[28..], 1);
        root[32] = 1;
        pvd[881] = 1;
        var terminator = iso.AsSpan(17 * sector, sector);
        terminator[0] = 255;
        Encoding.ASCII.GetBytes("CD001").CopyTo(terminator[1..]);
        terminator[6] = 1;
        for (var i = 20 * sector; i < iso.Length; i++)
            iso[i] = (byte)(i % 251);
        var path = Path(name);
        File.WriteAllBytes(path, iso);
        return path;
    }

    private static void BothEndian32(Span<byte> at, int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(at, value);
        BinaryPrimitives.WriteInt32BigEndian(at[4..], value);
    }

    private static void BothEndian16(Span<byte> at, int value)
    {
        BinaryPrimitives.WriteInt16LittleEndian(at, (short)value);
        BinaryPrimitives.WriteInt16BigEndian(at[2..], (short)value);
    }

    public static async Task QemuImgAsync(params string[] args)
    {
        var result = await ChildProcess.RunAsync("qemu-img", args, TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"qemu-img {string.Join(' ', args)}: {result.StandardError}");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
