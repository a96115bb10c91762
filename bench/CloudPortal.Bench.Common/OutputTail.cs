using System.Diagnostics;

namespace CloudPortal.Bench.Common;

/// <summary>The last lines a server the bench started has printed, to say why it failed.</summary>
public sealed class OutputTail
{
    private const int Lines = 20;

    private readonly Queue<string> _lines = new();
    private readonly Lock _gate = new();

    /// <summary>Starts reading a started process's standard output and error (both must be redirected) into a tail.</summary>
    public static OutputTail Of(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        var tail = new OutputTail();
        process.OutputDataReceived += (_, e) => tail.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => tail.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tail;
    }

    public void Keep(string? line)
    {
        if (line is null)
            return;
        lock (_gate)
        {
            _lines.Enqueue(line);
            if (_lines.Count > Lines)
                _lines.Dequeue();
        }
    }

    public override string ToString()
    {
        lock (_gate)
            return string.Join('\n', _lines);
    }
}
