using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>An HTTP answer as it came off the socket.</summary>
public sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    public string? Header(string name) =>
        Headers.LastOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

/// <summary>
/// HTTP/1.1 over a plain socket, one connection per request: the request line, headers and body go out byte for byte
/// as given. HttpClient cannot send what the fuzz and signature tests need (it re-escapes a stray <c>%</c> in the
/// query, fixes up headers, refuses duplicates).
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="target"/> (path and query, sent as Latin-1) to <paramref name="server"/>; adds Content-Length and Connection: close.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string method, string target, IEnumerable<KeyValuePair<string, string>> headers, byte[]? body,
        TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(headers);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, cts.Token);
        var stream = tcp.GetStream();

        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        foreach (var (name, value) in headers)
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        if (body is not null)
            head.Append("Content-Length: ").Append(body.Length.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        head.Append("Connection: close\r\n\r\n");
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), cts.Token);
            if (body is { Length: > 0 })
                await stream.WriteAsync(body, cts.Token);
            await stream.FlushAsync(cts.Token);
        }
        catch (IOException)
        {
            // The server may answer (e.g. 413) and close before it has read a large body: its answer is still there to read.
        }

        using var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, cts.Token);
        }
        catch (IOException) when (received.Length > 0)
        {
            // A reset after the answer was sent.
        }
        return Parse(received.ToArray());
    }

    private static RawResponse Parse(byte[] data)
    {
        var end = IndexOf(data, "\r\n\r\n"u8, 0);
        if (end < 0)
            throw new IOException($"no HTTP answer (received {data.Length} bytes: '{Encoding.Latin1.GetString(data, 0, Math.Min(data.Length, 200))}')");
        var lines = Encoding.Latin1.GetString(data, 0, end).Split("\r\n");
        var statusLine = lines[0].Split(' ', 3);
        var status = int.Parse(statusLine[1], CultureInfo.InvariantCulture);
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
                headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        var body = data.AsSpan(end + 4).ToArray();
        var chunked = headers.Any(h => h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
            && h.Value.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        return new RawResponse(status, headers, chunked ? Dechunk(body) : body);
    }

    private static byte[] Dechunk(byte[] data)
    {
        using var output = new MemoryStream();
        var position = 0;
        while (position < data.Length)
        {
            var lineEnd = IndexOf(data, "\r\n"u8, position);
            if (lineEnd < 0)
                break;
            var sizeText = Encoding.Latin1.GetString(data, position, lineEnd - position).Split(';')[0].Trim();
            var size = int.Parse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
                break;
            var start = lineEnd + 2;
            output.Write(data, start, Math.Min(size, data.Length - start));
            position = start + size + 2;
        }
        return output.ToArray();
    }

    private static int IndexOf(byte[] data, ReadOnlySpan<byte> pattern, int from)
    {
        var index = data.AsSpan(from).IndexOf(pattern);
        return index < 0 ? -1 : index + from;
    }
}
