using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using CloudPortal.Images.Storage;

namespace CloudPortal.Images.Intake;

public sealed class ImageTooLargeException(long limit) : Exception($"The image is larger than the limit of {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>Data received into staging, with what was measured on the way.</summary>
/// <param name="Sha512">Null when SHA-512 is turned off (<see cref="ImagesOptions.HashAlgorithms"/>).</param>
public sealed record StagedData(StagingFile File, long Size, string Sha256, string? Sha512);

/// <summary>
/// Streams data into a staging file with constant memory: a fixed ring of buffers flows through four stages that
/// run at once, each at its own pace: receiving, SHA-512, SHA-256, writing. A buffer goes back to the receiver
/// when the last of the other three is done with it, so a slow moment in one stage does not stall the others,
/// and throughput is that of the slowest stage (SHA-512) as far as the cores allow. Nothing is ever held whole
/// in memory, and a failure deletes the staging file.
/// </summary>
public static class StreamingReceiver
{
    /// <summary>8 MiB: written directly, larger writes reach more of the disk's rate (one write is in flight at a time).</summary>
    public const int BufferSize = 8 << 20;

    /// <summary>Buffers in flight: enough for every stage to have one and the receiver to fill the next.</summary>
    private const int Buffers = 4;

    /// <param name="expectedLength">The announced length (Content-Length), used to preallocate; null when unknown.</param>
    /// <param name="sha512">Whether to compute SHA-512 besides SHA-256 (its stage is left out when not).</param>
    /// <param name="progress">Called with the bytes received so far, after each buffer.</param>
    public static async Task<StagedData> ReceiveAsync(IImageStore store, Stream source, long? expectedLength, long maxBytes, bool sha512,
        Func<long, Task>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(source);
        if (expectedLength > maxBytes)
            throw new ImageTooLargeException(maxBytes);

        var staging = store.CreateStagingFile();
        var rented = Enumerable.Range(0, Buffers).Select(_ => StagingWriter.Buffers.Rent(BufferSize)).ToArray();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stop = failed.Token;
        try
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var sha512Hash = sha512 ? IncrementalHash.CreateHash(HashAlgorithmName.SHA512) : null;
            var free = Channel.CreateBounded<Memory<byte>>(Buffers);
            foreach (var buffer in rented)
                free.Writer.TryWrite(buffer);
            long total;
            using (var file = StagingWriter.Create(staging.Path, expectedLength is > 0 ? expectedLength.Value : 0))
            {
                Stage[] stages =
                [
                    .. sha512Hash is null ? Array.Empty<Stage>() : [new(chunk => sha512Hash.AppendData(chunk.Buffer.Span[..chunk.Count]))],
                    new(chunk => sha256.AppendData(chunk.Buffer.Span[..chunk.Count])),
                    new(chunk => file.Append(chunk.Buffer, chunk.Count)),
                ];
                var workers = stages.Select(async stage =>
                {
                    try
                    {
                        await stage.RunAsync(free.Writer, stop);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        await failed.CancelAsync();   // the receiver must not wait for a buffer this stage will never give back
                        throw;
                    }
                }).ToArray();
                Exception? receiveError = null;
                total = 0;
                try
                {
                    total = await ProduceAsync(source, free.Reader, stages, maxBytes, progress, stop);
                }
                catch (Exception ex)
                {
                    receiveError = ex;
                    await failed.CancelAsync();
                }
                foreach (var stage in stages)
                    stage.Complete();
                await Task.WhenAll(workers).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                foreach (var stage in stages)
                    stage.Dispose();
                // A stage's failure (a full disk) is the cause; the receiver's cancellation is only its consequence.
                if (workers.FirstOrDefault(w => w.IsFaulted)?.Exception?.InnerException is { } stageError)
                    ExceptionDispatchInfo.Throw(stageError);
                if (receiveError is not null)
                    ExceptionDispatchInfo.Throw(receiveError);
                file.Complete();
            }
            return new StagedData(staging, total,
                Convert.ToHexStringLower(sha256.GetHashAndReset()),
                sha512Hash is null ? null : Convert.ToHexStringLower(sha512Hash.GetHashAndReset()));
        }
        catch
        {
            await staging.DisposeAsync();
            throw;
        }
        finally
        {
            foreach (var buffer in rented)
                StagingWriter.Buffers.Return(buffer);
        }
    }

    /// <summary>Fills free buffers from the source and hands each to every stage, in order.</summary>
    private static async Task<long> ProduceAsync(Stream source, ChannelReader<Memory<byte>> free, Stage[] stages, long maxBytes,
        Func<long, Task>? progress, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var buffer = await free.ReadAsync(cancellationToken);
            var count = await FillAsync(source, buffer, cancellationToken);
            if (count == 0)
                return total;
            total += count;
            if (total > maxBytes)
                throw new ImageTooLargeException(maxBytes);
            var chunk = new Chunk(buffer, count, stages.Length);
            foreach (var stage in stages)
                stage.Post(chunk);
            if (progress is not null)
                await progress(total);
        }
    }

    /// <summary>One buffer's worth of data, given back to the receiver when every stage has used it.</summary>
    private sealed class Chunk(Memory<byte> buffer, int count, int users)
    {
        private int _users = users;

        public Memory<byte> Buffer { get; } = buffer;

        public int Count { get; } = count;

        public void Done(ChannelWriter<Memory<byte>> free)
        {
            if (Interlocked.Decrement(ref _users) == 0)
                free.TryWrite(Buffer);
        }
    }

    /// <summary>
    /// A step every chunk goes through, in order, on a thread of its own: CPU-bound work held for seconds would
    /// otherwise sit on the thread pool's few threads and starve Kestrel's socket reads (the pool grows slowly).
    /// </summary>
    private sealed class Stage(Action<Chunk> work) : IDisposable
    {
        private readonly BlockingCollection<Chunk> _queue = new(Buffers);

        public void Post(Chunk chunk) => _queue.Add(chunk);   // never blocks: there are only Buffers chunks

        public void Complete() => _queue.CompleteAdding();

        public Task RunAsync(ChannelWriter<Memory<byte>> free, CancellationToken cancellationToken) =>
            Task.Factory.StartNew(() =>
            {
                foreach (var chunk in _queue.GetConsumingEnumerable(cancellationToken))
                {
                    work(chunk);
                    chunk.Done(free);
                }
            }, cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        public void Dispose() => _queue.Dispose();
    }

    /// <summary>Reads until the buffer is full or the source ends.</summary>
    private static async Task<int> FillAsync(Stream source, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < BufferSize)
        {
            var read = await source.ReadAsync(buffer[filled..], cancellationToken);
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
