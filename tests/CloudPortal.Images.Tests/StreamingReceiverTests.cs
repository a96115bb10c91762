using System.Security.Cryptography;
using CloudPortal.Images.Intake;
using CloudPortal.Images.Storage;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>The receiver's pipeline (receive, SHA-512, SHA-256, write at once) against sources that misbehave.</summary>
public sealed class StreamingReceiverTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}");
    private readonly FileSystemImageStore _store;

    public StreamingReceiverTests() => _store = new FileSystemImageStore(_root);

    private string[] Staged() => Directory.EnumerateFiles(Path.Combine(_root, "staging")).ToArray();

    [Fact]
    public async Task Data_arriving_in_ragged_reads_is_stored_whole_with_its_size_and_hashes()
    {
        // Many more buffers than the ring holds, and a tail that fills none.
        var data = RandomNumberGenerator.GetBytes(9 * StreamingReceiver.BufferSize + 12345);
        var seen = new List<long>();

        var staged = await StreamingReceiver.ReceiveAsync(_store, new RaggedStream(data), data.Length, long.MaxValue, true,
            received => { seen.Add(received); return Task.CompletedTask; }, TestContext.Current.CancellationToken);
        await using var _ = staged.File;

        Assert.Equal(data.Length, staged.Size);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), staged.Sha256);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(data)), staged.Sha512);
        Assert.Equal(data, await File.ReadAllBytesAsync(staged.File.Path, TestContext.Current.CancellationToken));
        Assert.Equal(data.Length, seen[^1]);
        Assert.Equal(seen.Order(), seen);
    }

    [Fact]
    public async Task With_SHA512_off_only_SHA256_is_computed_and_the_data_is_stored_whole()
    {
        var data = RandomNumberGenerator.GetBytes(3 * StreamingReceiver.BufferSize + 99);

        var staged = await StreamingReceiver.ReceiveAsync(_store, new RaggedStream(data), data.Length, long.MaxValue, false,
            null, TestContext.Current.CancellationToken);
        await using var _ = staged.File;

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), staged.Sha256);
        Assert.Null(staged.Sha512);
        Assert.Equal(data, await File.ReadAllBytesAsync(staged.File.Path, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_source_that_fails_midway_or_crosses_the_cap_leaves_no_staging_file()
    {
        var data = RandomNumberGenerator.GetBytes(6 * StreamingReceiver.BufferSize);

        await Assert.ThrowsAsync<IOException>(() => StreamingReceiver.ReceiveAsync(_store, new RaggedStream(data, failAfter: 3 * StreamingReceiver.BufferSize + 7),
            null, long.MaxValue, true, null, TestContext.Current.CancellationToken));
        Assert.Empty(Staged());

        var tooLarge = await Assert.ThrowsAsync<ImageTooLargeException>(() => StreamingReceiver.ReceiveAsync(_store, new RaggedStream(data),
            null, 2 * StreamingReceiver.BufferSize + 1, true, null, TestContext.Current.CancellationToken));
        Assert.Equal(2 * StreamingReceiver.BufferSize + 1, tooLarge.Limit);
        Assert.Empty(Staged());
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>Returns the data in reads of uneven, often small sizes; optionally fails after some bytes.</summary>
    private sealed class RaggedStream(byte[] data, long failAfter = long.MaxValue) : Stream
    {
        private readonly Random _random = new(7);
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter)
                throw new IOException("the connection was reset");
            var n = (int)Math.Min(Math.Min(count, _random.Next(1, 200_000)), Math.Min(data.Length - _position, failAfter - _position));
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= failAfter)
                throw new IOException("the connection was reset");
            var n = (int)Math.Min(Math.Min(buffer.Length, _random.Next(1, 200_000)), Math.Min(data.Length - _position, failAfter - _position));
            data.AsMemory((int)_position, n).CopyTo(buffer);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
