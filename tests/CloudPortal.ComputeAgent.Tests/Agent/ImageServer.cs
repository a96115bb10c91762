using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// A plain HTTP server on 127.0.0.1 standing in for the Images module's download endpoint (and, when asked, for
/// Identity's token endpoint). Counts requests and remembers their Authorization headers.
/// </summary>
internal sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentDictionary<string, bool> _truncate = new();
    private readonly ConcurrentQueue<(string Path, string? Authorization)> _log = new();

    private ImageServer(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>When set, paths under <c>/images/</c> need <c>Authorization: Bearer {token}</c>, and the token endpoint gives it.</summary>
    public string? RequiredToken { get; set; }

    public string ClientSecret { get; set; } = "test-secret";

    public int TokenRequests { get; private set; }

    public IReadOnlyList<(string Path, string? Authorization)> Requests => [.. _log];

    public static async Task<ImageServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ImageServer(app);
        app.MapPost("/identity/connect/token", server.TokenAsync);
        app.MapGet("/{**path}", server.ServeAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        server.BaseAddress = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>Serves <paramref name="data"/> at <paramref name="path"/> (e.g. <c>/images/v2/images/{id}/compute-file</c>).</summary>
    public Uri Add(string path, byte[] data)
    {
        _files[path] = data;
        return new Uri(BaseAddress, path);
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
        string? authorization = context.Request.Headers.Authorization;
        _log.Enqueue((path, authorization));
        _requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        if (RequiredToken is not null && path.StartsWith("/images/", StringComparison.Ordinal) && authorization != $"Bearer {RequiredToken}")
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
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

    private async Task TokenAsync(HttpContext context)
    {
        TokenRequests++;
        var form = await context.Request.ReadFormAsync();
        if (RequiredToken is null || form["grant_type"] != "client_credentials" || form["client_id"] != "cloudportal-service" || form["client_secret"] != ClientSecret || form["scope"] != "cloudportal")
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object> { ["access_token"] = RequiredToken, ["token_type"] = "Bearer", ["expires_in"] = 300 });
    }
}
