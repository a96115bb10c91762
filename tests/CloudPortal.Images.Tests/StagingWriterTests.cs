using System.Security.Cryptography;
using CloudPortal.Images.Intake;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>The staging file's writer: direct where the file system allows, through the page cache elsewhere, the same bytes either way.</summary>
public sealed class StagingWriterTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Chunks_with_an_unaligned_tail_are_stored_exactly(bool direct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cloudportal-test-{Guid.NewGuid():N}.part");
        const int chunk = 64 * 1024;
        var data = RandomNumberGenerator.GetBytes(3 * chunk + 777);
        var buffer = StagingWriter.Buffers.Rent(chunk);
        try
        {
            using (var writer = StagingWriter.Create(path, data.Length, direct))
            {
                if (!direct)
                    Assert.False(writer.Direct);
                for (var offset = 0; offset < data.Length; offset += chunk)
                {
                    var count = Math.Min(chunk, data.Length - offset);
                    buffer.Span.Fill(0xEE);   // what lies past the tail in the last buffer must not reach the file
                    data.AsSpan(offset, count).CopyTo(buffer.Span);
                    writer.Append(buffer, count);
                }
                writer.Complete();
            }
            Assert.Equal(data, File.ReadAllBytes(path));
        }
        finally
        {
            StagingWriter.Buffers.Return(buffer);
            File.Delete(path);
        }
    }

    [Fact]
    public void Buffers_are_aligned_for_direct_writes()
    {
        var buffer = StagingWriter.Buffers.Rent(StreamingReceiver.BufferSize);
        try
        {
            Assert.Equal(StreamingReceiver.BufferSize, buffer.Length);
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(buffer, out var segment));
            var address = System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset);
            Assert.Equal(0, address % StagingWriter.Alignment);
        }
        finally
        {
            StagingWriter.Buffers.Return(buffer);
        }
    }
}
