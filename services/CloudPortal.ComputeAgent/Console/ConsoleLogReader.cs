using System.Text;

namespace CloudPortal.ComputeAgent.Console;

/// <summary>Reads the tail of a serial console log while QEMU (or virtlogd) keeps writing it.</summary>
public static class ConsoleLogReader
{
    public const int MaxLines = 10_000;

    /// <summary>At most this much of the end of the file is read, however many lines are asked for.</summary>
    public const int MaxBytes = 1 << 20;

    public static (string Output, bool Truncated) Tail(string path, int lines)
    {
        lines = Math.Clamp(lines, 1, MaxLines);
        if (!File.Exists(path))
            return ("", false);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var start = Math.Max(0, file.Length - MaxBytes);
        file.Seek(start, SeekOrigin.Begin);
        var buffer = new byte[file.Length - start];
        var read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        // Guests write anything to a serial port: decode leniently, and drop a first line cut in half by the window.
        var text = Encoding.UTF8.GetString(buffer, 0, read).Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n');
        var all = text.Split('\n').ToList();
        if (start > 0 && all.Count > 0)
            all.RemoveAt(0);
        if (all.Count > 0 && all[^1].Length == 0)
            all.RemoveAt(all.Count - 1);
        var truncated = start > 0 || all.Count > lines;
        return (string.Join('\n', all.Skip(Math.Max(0, all.Count - lines))), truncated);
    }
}
