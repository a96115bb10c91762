namespace CloudPortal.ServiceDefaults.Security;

/// <summary>Secrets on disk (passwords, client secrets, keys) are created readable and writable by their owner only.</summary>
public static class OwnerOnlyFile
{
    public static FileStreamOptions CreateOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }
}
