using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace CloudPortal.ServiceDefaults.Http;

/// <summary>
/// Kestrel's buffers, in 32 KiB blocks instead of its default 4 KiB. Kestrel reads a socket into one block at a time,
/// so a 4 KiB block means one receive (and, before it, a one-byte peek) per 4 KiB: an image upload of 2 GiB made a
/// million system calls and spent about as much CPU in them as in its two hashes, on top of them. With 32 KiB blocks
/// the same upload needs an eighth of the calls: Kestrel draining a request body on loopback went from about 650 to
/// about 1,800 MiB/s on two cores (<c>bench/CloudPortal.Bench.Upload</c> measures the whole upload). Idle connections
/// hold no block (Kestrel waits for data before it takes one), so the cost is only in buffers actually in use.
/// </summary>
public sealed class LargeBlockMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockMemoryPool();
}

/// <summary>Pinned blocks of one size, reused; at most <see cref="MaxPooled"/> are kept free, the rest go to the GC.</summary>
public sealed class LargeBlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 32 * 1024;

    /// <summary>16 MiB kept for reuse per pool: the blocks of a busy moment come back, a burst's excess does not stay.</summary>
    private const int MaxPooled = 512;

    private readonly ConcurrentQueue<Block> _free = new();
    private int _freeCount;

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        if (_free.TryDequeue(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            block.Rented();
            return block;
        }
        return new Block(this);
    }

    private void Return(Block block)
    {
        if (Interlocked.Increment(ref _freeCount) > MaxPooled)
        {
            Interlocked.Decrement(ref _freeCount);
            return;
        }
        _free.Enqueue(block);
    }

    protected override void Dispose(bool disposing) => _free.Clear();

    private sealed class Block(LargeBlockMemoryPool pool) : IMemoryOwner<byte>
    {
        private int _returned;

        // Pinned, as Kestrel's own blocks are: sockets read into them without the GC moving them.
        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true), 0, BlockSize);

        public void Rented() => Volatile.Write(ref _returned, 0);

        public void Dispose()
        {
            // Once: a second Dispose must not put a block that may be in use again into the pool.
            if (Interlocked.Exchange(ref _returned, 1) == 0)
                pool.Return(this);
        }
    }
}
