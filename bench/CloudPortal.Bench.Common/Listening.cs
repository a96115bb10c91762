using System.Diagnostics;
using System.Net.Sockets;

namespace CloudPortal.Bench.Common;

public static class Listening
{
    /// <summary>Until a server the bench started accepts connections on its loopback port; its exit or the deadline fails with its last output.</summary>
    public static async Task WaitAsync(Process server, string name, int port, TimeSpan within, OutputTail output, CancellationToken cancellationToken)
    {
        for (var deadline = DateTime.UtcNow + within; DateTime.UtcNow < deadline; await Task.Delay(200, cancellationToken))
        {
            if (server.HasExited)
                throw new InvalidOperationException($"{name} exited with {server.ExitCode}: {output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
            }
        }
        throw new TimeoutException($"{name} did not listen on {port} within {within.TotalSeconds:0} s: {output}");
    }
}
