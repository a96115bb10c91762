using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CloudPortal.Testing;

/// <summary>
/// A loopback TCP forwarder that can cut a dependency off and bring it back: the way to take RabbitMQ
/// "down" for one test without stopping the broker every other test uses.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<TcpClient, byte> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;

    public TcpProxy(string targetHost, int targetPort)
    {
        _target = new IPEndPoint(Dns.GetHostAddresses(targetHost).First(a => a.AddressFamily == AddressFamily.InterNetwork), targetPort);
        Port = FreePort.Next();
        Open();
    }

    public int Port { get; }

    public bool IsOpen => _listener is not null;

    /// <summary>Refuses new connections and resets the open ones, as a dead broker would.</summary>
    public void Cut()
    {
        _listener?.Stop();
        _listener = null;
        foreach (var connection in _connections.Keys)
        {
            try
            {
                // Reset rather than close, as a vanished broker would.
                connection.Client?.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
            {
                // Its pump closed it meanwhile.
            }
            connection.Dispose();
        }
        _connections.Clear();
    }

    public void Open()
    {
        if (_listener is not null)
            return;
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _acceptLoop = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
            {
                return;
            }
            _ = PumpAsync(client);
        }
    }

    private async Task PumpAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        _connections[client] = 0;
        _connections[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(_target, _stop.Token);
            var a = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
            var b = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            _connections.TryRemove(client, out _);
            _connections.TryRemove(upstream, out _);
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Cut();
        await _acceptLoop;
        _stop.Dispose();
    }
}
