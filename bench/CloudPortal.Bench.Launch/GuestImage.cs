using System.Diagnostics;
using System.Security.Cryptography;

namespace CloudPortal.Bench.Launch;

/// <summary>The 1 MiB boot-sector guest of TESTING.md (prints a line to COM1 and halts), converted to qcow2 with qemu-img.</summary>
internal static class GuestImage
{
    // xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,0x7c15; lodsb; test al,al; jz +3; out dx,al; jmp -8; hlt; jmp -3
    private static readonly byte[] Program =
        [0x31, 0xC0, 0x8E, 0xD8, 0xBA, 0xF8, 0x03, 0xBE, 0x15, 0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xFD];

    public static byte[] Qcow2(string directory)
    {
        var raw = new byte[1024 * 1024];
        Program.CopyTo(raw, 0);
        "CLOUDPORTAL-BENCH-OK\r\n\0"u8.CopyTo(raw.AsSpan(0x15));
        raw[0x1FE] = 0x55;
        raw[0x1FF] = 0xAA;
        var rawPath = Path.Combine(directory, "guest.raw");
        var qcow2Path = Path.Combine(directory, "guest.qcow2");
        File.WriteAllBytes(rawPath, raw);
        Tools.Run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", rawPath, qcow2Path);
        return File.ReadAllBytes(qcow2Path);
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
}

internal static class Tools
{
    /// <summary>Runs a tool to completion (bounded), throwing with its error output when it fails.</summary>
    public static void Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 60 s");
        }
        output.Wait();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {errors.Trim()}");
    }
}
