using System.Diagnostics;
using CloudPortal.Bench.Common;

namespace CloudPortal.Bench.Ec2;

/// <summary>
/// <c>python -m moto.server</c> on a loopback port, as the reference: moto's default in-memory backend, its default
/// request logging (one line per request to stderr), stopped (killed with its children) on dispose.
/// </summary>
internal sealed class MotoServer : IDisposable
{
    private readonly Process _process;
    private readonly OutputTail _output;

    private MotoServer(Process process, int port)
    {
        _process = process;
        Port = port;
        _output = OutputTail.Of(process);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>CPU time (user + system) the server has used so far.</summary>
    public double CpuSeconds
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }
    }

    public static async Task<MotoServer> StartAsync(Python python, int port, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(python.Executable, ["-m", "moto.server", "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var server = new MotoServer(Process.Start(info) ?? throw new InvalidOperationException("cannot start moto.server"), port);
        try
        {
            await server.WaitUntilListeningAsync(cancellationToken);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private Task WaitUntilListeningAsync(CancellationToken cancellationToken) =>
        Listening.WaitAsync(_process, "moto.server", Port, TimeSpan.FromSeconds(60), _output, cancellationToken);

    /// <summary>Its last lines of output.</summary>
    public string Output => _output.ToString();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
