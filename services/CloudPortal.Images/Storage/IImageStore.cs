namespace CloudPortal.Images.Storage;

/// <summary>The data an image keeps: what arrived (<see cref="Original"/>) and, after a conversion, the copy agents boot from.</summary>
public enum ImageFileKind
{
    Original,
    Compute,
}

/// <summary>
/// A file being received or produced. It lives in the store's staging area until committed; disposing
/// an uncommitted one deletes it, so a failed intake leaves nothing behind.
/// </summary>
public sealed class StagingFile : IAsyncDisposable
{
    internal StagingFile(string path) => Path = path;

    public string Path { get; }

    public bool Committed { get; internal set; }

    public ValueTask DisposeAsync()
    {
        if (!Committed)
        {
            try
            {
                File.Delete(Path);
            }
            catch (IOException)
            {
            }
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Where image files live. The filesystem store is the only one today; shared storage is a deployment concern.</summary>
public interface IImageStore
{
    /// <summary>A new, empty staging file on the same filesystem as the store, so committing it is a rename.</summary>
    StagingFile CreateStagingFile();

    /// <summary>Moves a staged file into place atomically, replacing any previous file of that kind.</summary>
    Task CommitAsync(StagingFile staged, Guid imageId, ImageFileKind kind, CancellationToken cancellationToken);

    /// <summary>A seekable read stream, or null when the file does not exist.</summary>
    Stream? OpenRead(Guid imageId, ImageFileKind kind);

    /// <summary>The file's local path when the store is a local filesystem (qemu-img needs one), else null.</summary>
    string? LocalPath(Guid imageId, ImageFileKind kind);

    Task DeleteAsync(Guid imageId, CancellationToken cancellationToken);

    /// <summary>Staging files older than <paramref name="age"/> (left by a crash) are removed.</summary>
    int PurgeStaging(TimeSpan age);
}
