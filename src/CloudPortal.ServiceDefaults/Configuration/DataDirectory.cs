using System.Runtime.InteropServices;

namespace CloudPortal.ServiceDefaults.Configuration;

/// <summary>
/// The data directory holds password hashes and the Data Protection key ring (identity.db), token signing keys,
/// client secrets and tenants' image files: it is readable by its owner only. Directories are 0700 and files 0600,
/// except the directories the compute agent hands to libvirt (see <see cref="QemuDirectory"/>).
/// </summary>
public static class DataDirectory
{
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// 0711: QEMU runs as another user under Debian's default qemu.conf (<c>libvirt-qemu</c>) and must pass through
    /// to the disks, backing images and console logs libvirt gives it; it can list and read nothing else. The same
    /// mode libvirt gives the directory pools it builds.
    /// </summary>
    public const UnixFileMode QemuDirectory = OwnerOnlyDirectory | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Every file this process creates from now on is its owner's only. A mode per file is not enough: SQLite (and its
    /// -wal/-shm files), Hangfire, ASP.NET Core's key ring, the Images module's storage and libvirt-facing files are
    /// created by code we do not control, with the default 0644 under the usual umask 022.
    /// </summary>
    public static void RestrictUmask()
    {
        if (!OperatingSystem.IsWindows())
            _ = umask(0x3F);   // 077
    }

    /// <summary>Creates the data directory owner-only (an existing one is left to <see cref="Tighten"/>).</summary>
    public static void Create(string dataDir)
    {
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(dataDir);
        else
            Directory.CreateDirectory(dataDir, OwnerOnlyDirectory);
    }

    /// <summary>
    /// Takes group and other permissions off everything under <paramref name="dataDir"/> (a data directory made
    /// before this rule, or copied in with a wider umask), and gives <paramref name="qemuDirectories"/> and the
    /// directories above them inside the data directory <see cref="QemuDirectory"/>. Symbolic links are not followed;
    /// an entry this user may not change (a disk libvirt handed to QEMU's user) is left as it is.
    /// </summary>
    /// <returns>How many entries lost permissions (giving QEMU its way in is not counted).</returns>
    public static int Tighten(string dataDir, IEnumerable<string> qemuDirectories)
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(dataDir))
            return 0;
        var root = Path.GetFullPath(dataDir);
        var passThrough = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in qemuDirectories.Select(Path.GetFullPath))
            for (var d = directory; d is not null && IsWithin(d, root); d = Path.GetDirectoryName(d))
                passThrough.Add(d.TrimEnd('/'));

        var changed = 0;
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(root));
        while (pending.TryPop(out var directory))
        {
            if (Restrict(directory, passThrough.Contains(directory.FullName.TrimEnd('/')) ? QemuDirectory : OwnerOnlyDirectory))
                changed++;
            IEnumerable<FileSystemInfo> entries;
            try
            {
                entries = directory.EnumerateFileSystemInfos().ToList();
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                continue;
            }
            foreach (var entry in entries)
            {
                if (entry.LinkTarget is not null)
                    continue;
                if (entry is DirectoryInfo child)
                    pending.Push(child);
                else if (Restrict(entry, OwnerOnlyFile))
                    changed++;
            }
        }
        return changed;
    }

    /// <summary>Creates a directory libvirt hands to QEMU (and any missing parent) as <see cref="QemuDirectory"/>, whatever the umask.</summary>
    public static void CreateForQemu(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        var missing = new Stack<string>();
        for (var d = Path.GetFullPath(path); d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            missing.Push(d);
        Directory.CreateDirectory(path);
        // mkdir's mode passes through the umask (077 here): set it afterwards.
        foreach (var created in missing)
            File.SetUnixFileMode(created, QemuDirectory);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static bool Restrict(FileSystemInfo entry, UnixFileMode wanted)
    {
        try
        {
            var current = entry.UnixFileMode;
            if (current == wanted)
                return false;
            entry.UnixFileMode = wanted;
            return (current & ~wanted) != 0;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return false;
        }
    }

    private static bool IsWithin(string path, string root) =>
        path.TrimEnd('/') == root.TrimEnd('/') || path.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

    // DllImport, not LibraryImport: a blittable uint needs no generated marshalling, and no unsafe code in this assembly.
    [DllImport("libc", EntryPoint = "umask")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint umask(uint mask);
}
