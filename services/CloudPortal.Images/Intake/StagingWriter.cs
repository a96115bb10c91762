using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CloudPortal.Images.Intake;

/// <summary>
/// Writes an upload's staging file, chunk after chunk, around the page cache where it can (O_DIRECT). Through the page
/// cache, writing cost more CPU than either hash: every page is allocated, charged, copied and later written back,
/// 4.7 s of system time for 2 GiB here, against 0.6 s written directly (<c>dd bs=16M oflag=direct</c>), which also
/// reached 830 MB/s durable where buffered writes plus the fsync reached 270. The image is read back once (inspection
/// reads its header) and then served rarely, so the cache gains little from holding it. Where O_DIRECT is refused
/// (tmpfs, other platforms) it writes through the cache and starts each range's disk writes at once, so that the fsync
/// that makes the image durable does not find the whole upload still to write.
/// </summary>
internal sealed class StagingWriter : IDisposable
{
    /// <summary>What O_DIRECT asks of buffers, offsets and lengths: a multiple of the device's logical block size.</summary>
    public const int Alignment = 4096;

    private readonly SafeFileHandle _file;
    private long _length;

    private StagingWriter(SafeFileHandle file, bool direct)
    {
        _file = file;
        Direct = direct;
    }

    public bool Direct { get; }

    /// <param name="direct">Whether to try O_DIRECT at all (false: through the page cache, as where it is refused).</param>
    public static StagingWriter Create(string path, long preallocate, bool direct = true)
    {
        if (direct && DirectFlag() is { } directFlag)
        {
            var fd = open(path, OWriteOnly | OCreate | OExclusive | OCloseOnExec | directFlag, 0b110_000_000);
            if (fd >= 0)
                return new StagingWriter(new SafeFileHandle(fd, ownsHandle: true), direct: true);
            if (Marshal.GetLastPInvokeError() != EInvalid)
                throw new IOException($"cannot create the staging file {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            File.Delete(path);   // some kernels create the file before refusing the flag
        }
        return new StagingWriter(File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, preallocate), direct: false);
    }

    /// <summary>
    /// Appends <paramref name="count"/> bytes from the start of <paramref name="buffer"/>, an aligned buffer whose length
    /// is a multiple of <see cref="Alignment"/>. Only the last chunk may have a count that is not: it is written padded to
    /// the alignment, and <see cref="Complete"/> cuts the padding off.
    /// </summary>
    public void Append(Memory<byte> buffer, int count)
    {
        var written = Direct ? (count + Alignment - 1) & ~(Alignment - 1) : count;
        RandomAccess.Write(_file, buffer.Span[..written], _length);
        if (!Direct)
            StartWriteback(_length, count);
        _length += count;
    }

    /// <summary>The file's exact length, then data and metadata on the disk: durable before the image can become active.</summary>
    public void Complete()
    {
        if (Direct)
            RandomAccess.SetLength(_file, _length);
        RandomAccess.FlushToDisk(_file);
    }

    public void Dispose() => _file.Dispose();

    /// <summary>Buffers O_DIRECT can write from, kept between uploads and bounded, so memory does not grow with their number.</summary>
    public static class Buffers
    {
        private const int MaxPooled = 8;

        private static readonly ConcurrentQueue<Memory<byte>> Free = new();

        public static Memory<byte> Rent(int size)
        {
            if (Free.TryDequeue(out var buffer) && buffer.Length == size)
                return buffer;
            // Pinned, so the address found aligned stays so.
            var array = GC.AllocateUninitializedArray<byte>(size + Alignment, pinned: true);
            var misalignment = (int)(Marshal.UnsafeAddrOfPinnedArrayElement(array, 0) % Alignment);
            return array.AsMemory(misalignment == 0 ? 0 : Alignment - misalignment, size);
        }

        public static void Return(Memory<byte> buffer)
        {
            if (Free.Count < MaxPooled)
                Free.Enqueue(buffer);
        }
    }

    private void StartWriteback(long offset, long count)
    {
        if (_writebackUnavailable)
            return;
        if (sync_file_range(_file, offset, count, SyncFileRangeWrite) != 0 && Marshal.GetLastPInvokeError() is ENoSystemCall or ENotSupported)
            _writebackUnavailable = true;
    }

    private static volatile bool _writebackUnavailable = !OperatingSystem.IsLinux();

    // Linux's open(2) flags; O_DIRECT's value differs between architectures, and elsewhere there is none.
    private const int OWriteOnly = 0x1, OCreate = 0x40, OExclusive = 0x80, OCloseOnExec = 0x80000;
    private const int EInvalid = 22, ENoSystemCall = 38, ENotSupported = 95;
    private const uint SyncFileRangeWrite = 2;   // SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages, do not wait

    private static int? DirectFlag() => !OperatingSystem.IsLinux() ? null : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => null,
    };

    // DllImport, not LibraryImport: blittable arguments, a SafeHandle and a UTF-8 path need no generated code and no unsafe code.
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int sync_file_range(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
