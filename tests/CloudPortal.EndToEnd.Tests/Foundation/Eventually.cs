using CloudPortal.Testing;

namespace CloudPortal.EndToEnd.Tests.Foundation;

internal static class Eventually
{
    /// <summary>Runs a cloudportal command until its output satisfies <paramref name="done"/> (bounded: 60 s).</summary>
    public static async Task<string> OutputAsync(string[] args, IReadOnlyDictionary<string, string?> environment, Func<string, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        CommandResult? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await CloudPortalProcess.RunAsync(args, environment);
            if (last.ExitCode == 0 && done(last.StandardOutput))
                return last.StandardOutput;
            await Task.Delay(500);
        }
        throw new TimeoutException($"cloudportal {string.Join(' ', args)} never produced the expected output; last (exit {last?.ExitCode}):\n{last?.Output}");
    }
}
