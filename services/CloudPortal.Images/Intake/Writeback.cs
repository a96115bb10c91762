using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CloudPortal.Images.Intake;

/// <summary>
/// Starts the disk writes of a file range as soon as it is written, without waiting for them. The kernel would
/// otherwise keep a whole upload dirty in the page cache (below its background threshold of 10% of memory) and write
/// it all in the fsync that makes the image durable: seconds after the last byte arrived, with the disk idle during the
/// upload. Started early, the writes overlap the receiving and hashing, and that fsync finds little left to do.
/// </summary>
internal static class Writeback
{
    private const uint SyncFileRangeWrite = 2;   // SYNC_FILE_RANGE_WRITE: start writeback of the range's dirty pages, do not wait

    private static volatile bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Best effort: where the call is missing or refused the final fsync still makes the data durable.</summary>
    public static void Start(SafeFileHandle file, long offset, long count)
    {
        if (_unavailable)
            return;
        try
        {
            if (sync_file_range(file, offset, count, SyncFileRangeWrite) != 0)
                _unavailable = Marshal.GetLastPInvokeError() is 38 or 95;   // ENOSYS, EOPNOTSUPP: never works here
        }
        catch (EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }

    // DllImport, not LibraryImport: blittable arguments and a SafeHandle need no generated marshalling, and no unsafe code.
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int sync_file_range(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
