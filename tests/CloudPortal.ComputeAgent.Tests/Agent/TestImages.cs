using System.Security.Cryptography;
using CloudPortal.Testing;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>Helpers around test images (the boot-sector guest itself is <see cref="GuestImage"/>).</summary>
internal static class TestImages
{
    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Runs qemu-img with the arguments; its output on failure.</summary>
    public static string? QemuImg(params string[] arguments)
    {
        try
        {
            // Synchronous for its callers; the shared runner reads both streams and kills on timeout.
            var result = ChildProcess.RunAsync("qemu-img", arguments, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            return result.ExitCode == 0 ? null : $"qemu-img {string.Join(' ', arguments)} failed: {result.StandardError}{result.StandardOutput}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"qemu-img cannot be run: {ex.Message}";
        }
        catch (TimeoutException ex)
        {
            return ex.Message;
        }
    }
}
