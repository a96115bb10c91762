using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CloudPortal.Images.Tests;

/// <summary>
/// A tiny HTTP/1.1 server on a loopback address that counts every connection it accepts, so a test can prove
/// that a refused import never connected. It serves one body, or a redirect, per path.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, Func<string>> _redirects = [];
    private readonly Dictionary<string, byte[]> _files = [];
    private readonly Dictionary<string, int> _failures = [];
    private readonly Task _loop;
    private int _accepted;

    public LocalHttpServer(string address = "127.0.0.1")
    {
        _listener = new TcpListener(IPAddress.Parse(address), 0);
        _listener.Start();
        var endpoint = (IPEndPoint)_listener.LocalEndpoint;
        BaseUrl = $"http://{address}:{endpoint.Port}";
        _loop = AcceptLoopAsync();
    }

    public string BaseUrl { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    public void Serve(string path, byte[] body) => _files[path] = body;

    public void Redirect(string path, string location) => _redirects[path] = () => location;

    /// <summary>The next <paramref name="times"/> requests for <paramref name="path"/> get a 503.</summary>
    public void FailFirst(string path, int times) => _failures[path] = times;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _accepted);
            _ = HandleAsync(client);
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
                var requestLine = await reader.ReadLineAsync() ?? "";
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
                {
                }
                var path = requestLine.Split(' ').ElementAtOrDefault(1) ?? "/";
                string head;
                byte[] body = [];
                var fail = false;
                lock (_failures)
                {
                    if (_failures.TryGetValue(path, out var left) && left > 0)
                        (_failures[path], fail) = (left - 1, true);
                }
                if (fail)
                    head = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                else if (_redirects.TryGetValue(path, out var location))
                    head = $"HTTP/1.1 302 Found\r\nLocation: {location()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                else if (_files.TryGetValue(path, out var file))
                    (head, body) = ($"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {file.Length}\r\nConnection: close\r\n\r\n", file);
                else
                    head = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(body);
                await stream.FlushAsync();
            }
            catch (IOException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
