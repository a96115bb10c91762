namespace CloudPortal.Images.Storage;

/// <summary>
/// Image files under one directory: <c>store/ab/abcd….original</c> (and <c>.compute</c>) plus a
/// <c>staging/</c> area on the same filesystem. Several replicas of the module may share the directory
/// (NFS or another shared filesystem): file names are image ids and every commit is a rename.
/// </summary>
public sealed class FileSystemImageStore : IImageStore
{
    private readonly string _store;
    private readonly string _staging;

    public FileSystemImageStore(string root)
    {
        Root = Path.GetFullPath(root);
        _store = Path.Combine(Root, "store");
        _staging = Path.Combine(Root, "staging");
        Directory.CreateDirectory(_store);
        Directory.CreateDirectory(_staging);
    }

    public string Root { get; }

    public StagingFile CreateStagingFile() => new(Path.Combine(_staging, $"{Guid.NewGuid():N}.part"));

    public Task CommitAsync(StagingFile staged, Guid imageId, ImageFileKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(staged);
        var target = FilePath(imageId, kind);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Move(staged.Path, target, overwrite: true);
        staged.Committed = true;
        return Task.CompletedTask;
    }

    public Stream? OpenRead(Guid imageId, ImageFileKind kind)
    {
        var path = FilePath(imageId, kind);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }

    public string? LocalPath(Guid imageId, ImageFileKind kind) => FilePath(imageId, kind);

    public Task DeleteAsync(Guid imageId, CancellationToken cancellationToken)
    {
        foreach (var kind in Enum.GetValues<ImageFileKind>())
            File.Delete(FilePath(imageId, kind));
        return Task.CompletedTask;
    }

    public int PurgeStaging(TimeSpan age)
    {
        var removed = 0;
        foreach (var file in new DirectoryInfo(_staging).EnumerateFiles())
        {
            if (DateTime.UtcNow - file.LastWriteTimeUtc < age)
                continue;
            try
            {
                file.Delete();
                removed++;
            }
            catch (IOException)
            {
            }
        }
        return removed;
    }

    private string FilePath(Guid imageId, ImageFileKind kind)
    {
        var id = imageId.ToString("N");
        return Path.Combine(_store, id[..2], $"{id}.{kind.ToString().ToLowerInvariant()}");
    }
}
