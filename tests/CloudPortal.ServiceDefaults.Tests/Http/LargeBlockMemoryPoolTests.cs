using CloudPortal.ServiceDefaults.Http;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Http;

public sealed class LargeBlockMemoryPoolTests
{
    [Fact]
    public void Every_block_is_32_KiB_whatever_is_asked_and_a_returned_block_is_reused()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Equal(32 * 1024, pool.MaxBufferSize);

        var first = pool.Rent(1);
        var memory = first.Memory;
        Assert.Equal(LargeBlockMemoryPool.BlockSize, memory.Length);
        first.Dispose();
        using var again = pool.Rent();
        Assert.True(again.Memory.Span == memory.Span, "the returned block is handed out again");
    }

    [Fact]
    public void A_block_disposed_twice_is_pooled_once()
    {
        using var pool = new LargeBlockMemoryPool();
        var block = pool.Rent();
        block.Dispose();
        block.Dispose();

        using var a = pool.Rent();
        using var b = pool.Rent();
        Assert.False(a.Memory.Span == b.Memory.Span, "two renters must never share a block");
    }

    [Fact]
    public void More_than_a_block_is_refused()
    {
        using var pool = new LargeBlockMemoryPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(LargeBlockMemoryPool.BlockSize + 1));
    }
}
