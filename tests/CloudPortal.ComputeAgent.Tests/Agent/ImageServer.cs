using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// A plain HTTP server on 127.0.0.1 standing in for the Images module's download endpoint. Counts requests and
/// remembers their query strings and Authorization headers; a file added with a signature query is served only
/// to requests that carry exactly that query, as Images serves only its signed URLs.
/// </summary>
internal sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly ConcurrentDictionary<string, string> _queries = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentDictionary<string, bool> _truncate = new();
    private readonly ConcurrentQueue<(string Path, string Query, string? Authorization)> _log = new();

    private ImageServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyList<(string Path, string Query, string? Authorization)> Requests => [.. _log];

    public static async Task<ImageServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ImageServer(app);
        app.MapGet("/{**path}", server.ServeAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        server.BaseAddress = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>
    /// Serves <paramref name="data"/> at <paramref name="path"/> (e.g. <c>/images/v2/images/{id}/compute-file</c>); with
    /// <paramref name="query"/> (e.g. <c>?expires=...&amp;signature=...</c>) only to requests with that query, else 403.
    /// </summary>
    public Uri Add(string path, byte[] data, string? query = null)
    {
        _files[path] = data;
        if (query is not null)
            _queries[path] = query;
        return new Uri(BaseAddress, path + query);
    }

    /// <summary>The next download of <paramref name="path"/> announces the full length, sends half and drops the connection.</summary>
    public void TruncateNext(string path) => _truncate[path] = true;

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
