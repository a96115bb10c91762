using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Testing;

/// <summary>
/// The one plain HTTP server tests serve image files from (Kestrel on a loopback address and a port the kernel
/// picks): URL imports fetch from it, and compute agents download from it as from the Images module. It counts the
/// TCP connections it accepts, so a test can prove a refused import never connected; counts and remembers every
/// request (path, query, Authorization header); and can answer a path with a redirect, a few 503s first, a 403 unless
/// the request carries a signature query exactly, or a body cut off half-way.
/// </summary>
public sealed class ImageHttpServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly ConcurrentDictionary<string, string> _queries = new();
    private readonly ConcurrentDictionary<string, string> _redirects = new();
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentDictionary<string, bool> _truncate = new();
    private readonly ConcurrentQueue<(string Path, string Query, string? Authorization)> _log = new();
    private WebApplication _app = null!;
    private int _accepted;

    private ImageHttpServer()
    {
    }

    /// <summary>The server's root without a trailing slash, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = null!;

    public Uri BaseAddress => new(BaseUrl);

    /// <summary>TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    public IReadOnlyList<(string Path, string Query, string? Authorization)> Requests => [.. _log];

    /// <param name="address">A loopback address (e.g. <c>127.0.0.2</c> for a host that must look different from 127.0.0.1).</param>
    public static async Task<ImageHttpServer> StartAsync(string address = "127.0.0.1")
    {
        var server = new ImageHttpServer();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(address), 0, listen => listen.Use(next => connection =>
        {
            Interlocked.Increment(ref server._accepted);
            return next(connection);
        })));
        var app = server._app = builder.Build();
        app.Map("/{**path}", server.ServeAsync);
        await app.StartAsync();
        // Port 0: the kernel picks a free port as Kestrel binds, and Kestrel reports it.
        server.BaseUrl = app.Urls.Single().TrimEnd('/');
        return server;
    }

    /// <summary>
    /// Serves <paramref name="data"/> at <paramref name="path"/> (e.g. <c>/images/v2/images/{id}/compute-file</c>); with
    /// <paramref name="query"/> (e.g. <c>?expires=...&amp;signature=...</c>) only to requests with exactly that query, else 403.
    /// </summary>
    /// <returns>The URL to fetch it from.</returns>
    public Uri Serve(string path, byte[] data, string? query = null)
    {
        _files[path] = data;
        if (query is not null)
            _queries[path] = query;
        return new Uri(BaseAddress, path + query);
    }

    /// <summary>Answers <paramref name="path"/> with 302 to <paramref name="location"/>.</summary>
    public void Redirect(string path, string location) => _redirects[path] = location;

    /// <summary>The next <paramref name="times"/> requests for <paramref name="path"/> get a 503.</summary>
    public void FailFirst(string path, int times) => _failures[path] = times;

    /// <summary>The next download of <paramref name="path"/> announces the full length, sends half and drops the connection.</summary>
    public void TruncateNext(string path) => _truncate[path] = true;

    /// <summary>Requests for <paramref name="path"/> so far.</summary>
    public int Count(string path) => _requests.TryGetValue(path, out var count) ? count : 0;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var query = context.Request.QueryString.Value ?? "";
        string? authorization = context.Request.Headers.Authorization;
        _log.Enqueue((path, query, authorization));
        _requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (_failures.TryGetValue(path, out var left) && left > 0 && _failures.TryUpdate(path, left - 1, left))
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return;
        }
        if (_redirects.TryGetValue(path, out var location))
        {
            context.Response.Redirect(location);
            return;
        }
        if (_queries.TryGetValue(path, out var required) && query != required)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }
        if (!_files.TryGetValue(path, out var data))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = data.Length;
        if (_truncate.TryRemove(path, out _))
        {
            await context.Response.Body.WriteAsync(data.AsMemory(0, data.Length / 2));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(data);
    }
}
