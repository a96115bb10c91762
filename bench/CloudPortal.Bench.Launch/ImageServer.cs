using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Bench.Launch;

/// <summary>Serves the guest image on 127.0.0.1, as the Images module's download endpoint would.</summary>
internal sealed class ImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ImageServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<ImageServer> StartAsync(Guid imageId, byte[] data)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var path = $"/images/v2/images/{imageId}/compute-file";
        app.MapGet(path, () => Results.Bytes(data, "application/octet-stream"));
        await app.StartAsync();
        return new ImageServer(app, new Uri(new Uri(app.Urls.First()), path));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
