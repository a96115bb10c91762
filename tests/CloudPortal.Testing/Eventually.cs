using Xunit;

namespace CloudPortal.Testing;

/// <summary>Waits for a condition a test cannot be told about directly (an asynchronous effect), bounded, polling.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails naming <paramref name="what"/> (and <paramref name="last"/>'s account) after the timeout.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, Func<string>? last = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (await condition())
                return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"timed out waiting for {what}{(last is null ? "" : $"; last seen: {last()}")}");
            await Task.Delay(200);
        }
    }
}
