using System.Buffers;
using System.Security.Cryptography;
using CloudPortal.Images.Storage;

namespace CloudPortal.Images.Intake;

public sealed class ImageTooLargeException(long limit) : Exception($"The image is larger than the limit of {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>Data received into staging, with what was measured on the way.</summary>
public sealed record StagedData(StagingFile File, long Size, string Sha256, string Sha512);

/// <summary>
/// Streams data into a staging file with constant memory: two fixed buffers, one being filled from the
/// source while the other is written and hashed (SHA-256 and SHA-512 on their own threads). Nothing is
/// ever held whole in memory, and a failure deletes the staging file.
/// </summary>
public static class StreamingReceiver
{
    public const int BufferSize = 4 << 20;

    /// <param name="expectedLength">The announced length (Content-Length), used to preallocate; null when unknown.</param>
    /// <param name="progress">Called with the bytes received so far, after each buffer.</param>
    public static async Task<StagedData> ReceiveAsync(IImageStore store, Stream source, long? expectedLength, long maxBytes,
        Func<long, Task>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        if (expectedLength > maxBytes)
            throw new ImageTooLargeException(maxBytes);

        var staging = store.CreateStagingFile();
        var current = ArrayPool<byte>.Shared.Rent(BufferSize);
        var next = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
            long total = 0;
            await using (var file = new FileStream(staging.Path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                PreallocationSize = expectedLength is > 0 ? expectedLength.Value : 0,
            }))
            {
                var count = await FillAsync(source, current, cancellationToken);
                while (count > 0)
                {
                    total += count;
                    if (total > maxBytes)
                        throw new ImageTooLargeException(maxBytes);
                    var chunk = current;
                    var n = count;
                    // SHA-512 (the slower hash) on another core; the next buffer arrives meanwhile (socket reads
                    // need no thread); SHA-256 and the write happen here.
                    var hash512 = Task.Run(() => sha512.AppendData(chunk, 0, n), CancellationToken.None);
                    var fill = FillAsync(source, next, cancellationToken);
                    int nextCount;
                    try
                    {
                        sha256.AppendData(chunk, 0, n);
                        file.Write(chunk, 0, n);
                    }
                    finally
                    {
                        try
                        {
                            nextCount = await fill;
                        }
                        finally
                        {
                            await hash512;
                        }
                    }
                    (current, next) = (next, current);
                    count = nextCount;
                    if (progress is not null)
                        await progress(total);
                }
                // Durable before the image can become active.
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            return new StagedData(staging, total,
                Convert.ToHexStringLower(sha256.GetHashAndReset()),
                Convert.ToHexStringLower(sha512.GetHashAndReset()));
        }
        catch
        {
            await staging.DisposeAsync();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }
    }

    /// <summary>Reads until the buffer is full or the source ends.</summary>
    private static async Task<int> FillAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < BufferSize)
        {
            var read = await source.ReadAsync(buffer.AsMemory(filled, BufferSize - filled), cancellationToken);
            if (read == 0)
                break;
            filled += read;
        }
        return filled;
    }

    /// <summary>SHA-256 of a whole file (a converted copy), streamed.</summary>
    public static async Task<(long Size, string Sha256)> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            long total = 0;
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                total += read;
            }
            return (total, Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
