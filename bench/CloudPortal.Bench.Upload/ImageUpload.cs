using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Bench.Common;

namespace CloudPortal.Bench.Upload;

/// <summary>
/// An image API under test. Only what differs between CloudPortal and Glance is here: the path of the images, the body
/// that creates a raw image, and which processes serve. The upload itself is <see cref="ImageUpload.RunAsync"/>, the
/// same code for both.
/// </summary>
internal sealed class ImageApi(string name, HttpClient client, string imagesPath, Func<string, object> createBody, Func<IReadOnlyList<int>> servingPids) : IDisposable
{
    public string Name { get; } = name;

    public HttpClient Client { get; } = client;

    /// <summary>The collection, relative to the client's base address: POST creates, {id} reads and deletes, {id}/file uploads.</summary>
    public string ImagesPath { get; } = imagesPath;

    /// <summary>The JSON that creates a queued image of disk format raw (container bare) with the given name.</summary>
    public object CreateBody(string imageName) => createBody(imageName);

    /// <summary>The processes whose peak RSS is the server's (CloudPortal: one; Glance: its parent and workers).</summary>
    public IReadOnlyList<int> ServingPids => servingPids();

    /// <summary>
    /// The client both servers get: the same handler and settings, only the base address and headers differ (CloudPortal's
    /// bearer token and project; Glance without Keystone takes none). No overall timeout: a cold 2 GiB upload on a slow disk
    /// may take minutes, and a hung server shows as a step that does not end.
    /// </summary>
    public static HttpClient NewClient(string baseUrl, IReadOnlyDictionary<string, string> headers)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(baseUrl.TrimEnd('/') + "/"),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        foreach (var (header, value) in headers)
            client.DefaultRequestHeaders.TryAddWithoutValidation(header, value);
        return client;
    }

    public void Dispose() => Client.Dispose();
}

/// <summary>
/// One upload as measured: the PUT's wall time, the time until the image read active, the server's RSS just before the
/// PUT and its peak during the upload (so the upload's own growth is the difference), the CPU seconds the server and this
/// process (the client) used until active, the image as it read active.
/// </summary>
internal sealed record UploadResult(TimeSpan Put, TimeSpan ToActive, long RssBeforeKib, long PeakRssKib, double ServerCpuSeconds, double ClientCpuSeconds, JsonElement Image)
{
    /// <summary>Cores kept busy on average, server and client: on a small machine both share the same few cores.</summary>
    public (double Server, double Client) Cores => (ServerCpuSeconds / ToActive.TotalSeconds, ClientCpuSeconds / ToActive.TotalSeconds);
}

internal static class ImageUpload
{
    /// <summary>How often the image is read while it is not active yet (after the PUT; both servers usually answer the first read with active).</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Creates a raw image (untimed), settles the disk and page cache, resets the server's peak RSS, then times
    /// <c>PUT {images}/{id}/file</c> with the file streamed as application/octet-stream with its Content-Length, and the
    /// reads of <c>GET {images}/{id}</c> until its status is active; reads the peak RSS and deletes the image (untimed).
    /// </summary>
    public static async Task<UploadResult> RunAsync(ImageApi api, string path, bool cold, CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        string id;
        using (var created = await api.Client.PostAsJsonAsync(api.ImagesPath, api.CreateBody($"bench-{length >> 20}m"), cancellationToken))
        {
            var body = await created.Content.ReadAsStringAsync(cancellationToken);
            if (!created.IsSuccessStatusCode)
                throw new HttpRequestException($"{api.Name}: create an image: {(int)created.StatusCode} {body}");
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        var image = $"{api.ImagesPath}/{id}";
        try
        {
            await Tools.SettleAsync(path, cold);
            var pids = api.ServingPids;
            foreach (var pid in pids)
                Tools.ResetPeakRss(pid);
            var before = pids.Max(pid => Tools.StatusKib(pid, "VmRSS"));
            var serverCpu = pids.Sum(ProcessStats.CpuSeconds);
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;

            var watch = Stopwatch.StartNew();
            await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous))
            {
                using var content = new StreamContent(file, 1 << 20);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                content.Headers.ContentLength = length;
                using var response = await api.Client.PutAsync($"{image}/file", content, cancellationToken);
                if (!response.IsSuccessStatusCode)
                    throw new HttpRequestException($"{api.Name}: upload: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            var put = watch.Elapsed;
            var active = await WaitUntilActiveAsync(api, image, cancellationToken);
            var toActive = watch.Elapsed;
            serverCpu = pids.Sum(ProcessStats.CpuSeconds) - serverCpu;
            var clientSeconds = (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalSeconds;

            // The largest of the serving processes: Glance's parent only forks and waits, its worker holds the upload.
            var peak = pids.Max(Tools.PeakRssKib);
            return new UploadResult(put, toActive, before, peak, serverCpu, clientSeconds, active);
        }
        finally
        {
            using var deleted = await api.Client.DeleteAsync(image, CancellationToken.None);
            if (!deleted.IsSuccessStatusCode)
                Console.Error.WriteLine($"{api.Name}: delete {image}: {(int)deleted.StatusCode}");
        }
    }

    private static async Task<JsonElement> WaitUntilActiveAsync(ImageApi api, string image, CancellationToken cancellationToken)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10); ; await Task.Delay(Poll, cancellationToken))
        {
            var read = await api.Client.GetFromJsonAsync<JsonElement>(image, cancellationToken);
            var status = read.GetProperty("status").GetString();
            if (status == "active")
                return read;
            if (status is "killed" or "deleted" or "pending_delete" or "failed")
                throw new InvalidOperationException($"{api.Name}: {image} is {status} after the upload");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{api.Name}: {image} still {status} 10 minutes after the upload began");
        }
    }
}
