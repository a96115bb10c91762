using CloudPortal.Scheduler.Hosts;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

public sealed class ResourceInventoryTests
{
    [Theory]
    [InlineData(16, 0, 4.0, 64)]
    [InlineData(16, 2, 4.0, 56)]
    [InlineData(8192, 512, 1.5, 11520)]
    [InlineData(100, 0, 0.29, 29)]       // not 28: the ratio is applied in decimal
    [InlineData(10, 0, 1.1, 11)]
    [InlineData(4, 8, 4.0, 0)]           // more reserved than there is
    public void Capacity_is_total_minus_reserved_times_the_ratio(long total, long reserved, double ratio, long capacity) =>
        Assert.Equal(capacity, new ResourceInventory(total, reserved, ratio, 0).Capacity);

    [Fact]
    public void Free_is_capacity_minus_used_and_never_negative()
    {
        Assert.Equal(24, new ResourceInventory(16, 0, 4.0, 40).Free);
        Assert.Equal(0, new ResourceInventory(16, 0, 1.0, 20).Free);
        Assert.True(new ResourceInventory(16, 0, 1.0, 12).Fits(4));
        Assert.False(new ResourceInventory(16, 0, 1.0, 12).Fits(5));
        Assert.True(new ResourceInventory(16, 0, 1.0, 20).Fits(0));
    }
}
