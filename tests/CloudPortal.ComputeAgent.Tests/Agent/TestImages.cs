using System.Diagnostics;
using System.Security.Cryptography;
using CloudPortal.ComputeAgent.Tests.Libvirt;
using CloudPortal.Testing;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>The boot-sector guest of TESTING.md as a qcow2 image (made once per test run with qemu-img).</summary>
internal static class TestImages
{
    private static readonly Lazy<(byte[] Data, string? Error)> BootQcow2 = new(MakeBootQcow2);

    /// <summary>The qcow2 bytes; under CI a missing qemu-img fails, elsewhere the test is skipped.</summary>
    public static byte[] Boot()
    {
        var (data, error) = BootQcow2.Value;
        if (error is not null)
            TestEnvironment.Unavailable("qemu-img", $"{error}; install qemu-utils");
        return data;
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Runs qemu-img with the arguments; its output on failure.</summary>
    public static string? QemuImg(params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("qemu-img", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                return "qemu-img did not finish within 30 s";
            }
            return process.ExitCode == 0 ? null : $"qemu-img {string.Join(' ', arguments)} failed: {errors}{output.Result}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"qemu-img cannot be run: {ex.Message}";
        }
    }

    private static (byte[], string?) MakeBootQcow2()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"cp-test-images-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            var raw = Path.Combine(directory, "boot.raw");
            var qcow2 = Path.Combine(directory, "boot.qcow2");
            File.WriteAllBytes(raw, BootSector.Image());
            var error = QemuImg("convert", "-f", "raw", "-O", "qcow2", raw, qcow2);
            return error is null ? (File.ReadAllBytes(qcow2), null) : ([], error);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
