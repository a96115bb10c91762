using System.Diagnostics;
using System.Security.Cryptography;
using System.Xml.Linq;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Storage;

/// <summary>A verified base image in the node's image cache pool.</summary>
public sealed record BaseImage(string VolumeName, string Path, string Format, ulong VirtualSizeBytes);

/// <summary>
/// The node's image cache: one base image per image id and checksum, downloaded once, verified, then shared by every
/// instance overlay built on it. A download goes to <c>{name}.part</c> with its SHA-256 computed as it streams, and
/// is renamed into place only after the checksum, size and format all match: a file without <c>.part</c> in the
/// pool's directory is always a verified image, and a <c>.part</c> is never used. Two spawns of one image wait for
/// one download. Cached images are never deleted by instance deletes.
/// </summary>
public sealed partial class ImageCache(
    StoragePools pools,
    IHttpClientFactory http,
    IOptions<AgentOptions> options,
    ILogger<ImageCache> log)
{
    public const string HttpClientName = "cloudportal-agent-images";
    public const string PartialSuffix = ".part";
    private readonly InstanceLocks _downloads = new();

    /// <summary><c>{image id}-{first 16 hex digits of the SHA-256}.{format}</c>: another checksum for the same id is another file.</summary>
    public static string VolumeName(ImageSource source) =>
        $"{source.ImageId:D}-{source.Sha256[..16].ToLowerInvariant()}.{source.DiskFormat}";

    /// <summary>Checks what can be checked before any download.</summary>
    public static void Validate(ImageSource? source)
    {
        if (source is null)
            throw Invalid("the command has no image");
        if (source.Url is null || string.IsNullOrWhiteSpace(source.Url.OriginalString))
            throw Invalid($"image {source.ImageId} has no URL to download it from");
        if (!source.Url.IsAbsoluteUri || (source.Url.Scheme != Uri.UriSchemeHttp && source.Url.Scheme != Uri.UriSchemeHttps))
            throw Invalid($"image {source.ImageId}'s URL '{Shown(source.Url)}' is not an http(s) URL");
        if (source.Sha256 is null || source.Sha256.Length != 64 || !source.Sha256.All(char.IsAsciiHexDigit))
            throw Invalid($"image {source.ImageId}'s checksum '{source.Sha256}' is not a SHA-256 (64 hex digits)");
        if (source.DiskFormat is not (DiskFormats.Raw or DiskFormats.Qcow2))
            throw Invalid($"image {source.ImageId} has disk format '{source.DiskFormat}'; the agent boots raw and qcow2");
        if (source.SizeBytes is < 0)
            throw Invalid($"image {source.ImageId} has a negative size");
    }

    /// <summary>The cached base image, downloaded first if the node does not have it.</summary>
    public async Task<BaseImage> EnsureAsync(LibvirtConnection connection, ImageSource source, CancellationToken cancellationToken)
    {
        Validate(source);
        var name = VolumeName(source);
        using (await _downloads.AcquireAsync(source.ImageId, cancellationToken).ConfigureAwait(false))
        {
            using var pool = pools.Images(connection);
            using (var cached = pool.LookupVolumeByName(name))
            {
                if (cached is not null)
                    return Describe(cached, source.DiskFormat);
            }
            var path = System.IO.Path.Combine(StoragePools.TargetPath(pool), name);
            // A verified file that libvirt has not listed yet (the agent stopped between rename and refresh).
            if (!File.Exists(path))
                await DownloadAsync(source, path, cancellationToken).ConfigureAwait(false);
            try
            {
                pool.Refresh();
                using var volume = pool.LookupVolumeByName(name) ?? Register(pool, name, path, source.DiskFormat);
                return Describe(volume, source.DiskFormat);
            }
            catch (LibvirtException ex)
            {
                throw new AgentFailureException(AgentFailureCodes.StorageUnavailable, $"cannot add image {source.ImageId} to storage pool {pool.Name}: {ex.Message}", inner: ex);
            }
        }
    }

    private static BaseImage Describe(LibvirtStorageVolume volume, string format) =>
        new(volume.Name, volume.GetPath(), format, volume.GetInfo().CapacityBytes);

    /// <summary>
    /// A pool that does not see files (libvirt's simulated driver keeps volumes in memory) gets the volume declared,
    /// with the size the file's header gives.
    /// </summary>
    private static LibvirtStorageVolume Register(LibvirtStoragePool pool, string name, string path, string format)
    {
        var header = DiskImageHeader.Read(path);
        return pool.CreateVolume(new XElement("volume",
            new XElement("name", name),
            new XElement("capacity", new XAttribute("unit", "bytes"), header.VirtualSizeBytes),
            new XElement("target", new XElement("format", new XAttribute("type", format)))).ToString());
    }

    private async Task DownloadAsync(ImageSource source, string path, CancellationToken cancellationToken)
    {
        var partial = path + PartialSuffix;
        var started = Stopwatch.StartNew();
        var timeout = options.Value.DownloadTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            File.Delete(partial);
            // The URL is the credential (Images signs it for this one image, until it expires): no token is sent.
            using var request = new HttpRequestMessage(HttpMethod.Get, source.Url);
            using var response = await http.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw Download(source, $"GET {Shown(source.Url)} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            if (source.SizeBytes is { } expected && response.Content.Headers.ContentLength is { } announced && announced != expected)
                throw Mismatch(source, $"image {source.ImageId} at {Shown(source.Url)} is {announced} bytes; the command says {expected}");

            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long length = 0;
            await using (var body = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false))
            await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var buffer = new byte[1 << 16];
                while (await ReadAsync(body, buffer, source, length, deadline.Token).ConfigureAwait(false) is var read and > 0)
                {
                    length += read;
                    if (source.SizeBytes is { } limit && length > limit)
                        throw Mismatch(source, $"image {source.ImageId} at {Shown(source.Url)} is larger than the {limit} bytes the command says");
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), deadline.Token).ConfigureAwait(false);
                }
                file.Flush(flushToDisk: true);
            }
            if (source.SizeBytes is { } size && length != size)
                throw Mismatch(source, $"image {source.ImageId} at {Shown(source.Url)} is {length} bytes; the command says {size}");
            var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
            if (!actual.Equals(source.Sha256, StringComparison.OrdinalIgnoreCase))
                throw Mismatch(source, $"image {source.ImageId} from {Shown(source.Url)} has SHA-256 {actual}; the command expects {source.Sha256.ToLowerInvariant()}");

            var header = DiskImageHeader.Read(partial);
            if (header.Format != source.DiskFormat)
                throw new AgentFailureException(AgentFailureCodes.ImageFormatMismatch, $"image {source.ImageId} is {header.Format} data; the command says {source.DiskFormat}");
            if (header.RefersToOtherFiles)
                throw new AgentFailureException(AgentFailureCodes.ImageUnsafe, $"image {source.ImageId} is a qcow2 that refers to other files (backing or external data file); refused");

            File.Move(partial, path);
            LogDownloaded(log, source.ImageId, length, started.Elapsed.TotalSeconds, path);
        }
        catch (Exception ex)
        {
            TryDelete(partial);
            if (!cancellationToken.IsCancellationRequested && ex is OperationCanceledException)
                throw Download(source, $"downloading {Shown(source.Url)} took longer than {timeout.TotalSeconds:0} s", ex);
            if (!cancellationToken.IsCancellationRequested && ex is HttpRequestException)
                throw Download(source, $"GET {Shown(source.Url)} failed: {ex.Message}", ex);
            // Reading the network is handled in ReadAsync: what is left is the local disk (full, read-only, permissions).
            if (ex is IOException or UnauthorizedAccessException)
                throw new AgentFailureException(AgentFailureCodes.StorageUnavailable, $"cannot write image {source.ImageId} to {partial}: {ex.Message}", inner: ex);
            throw;
        }
    }

    /// <summary>One read from the response; a connection that breaks off is a download failure, not a disk one.</summary>
    private static async Task<int> ReadAsync(Stream body, byte[] buffer, ImageSource source, long received, CancellationToken cancellationToken)
    {
        try
        {
            return await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw Download(source, $"GET {Shown(source.Url)} broke off after {received} bytes: {ex.Message}", ex);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the next download of this image deletes it first.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The URL as failure reasons and logs show it: without its query, which holds the signature that opens the image.</summary>
    private static string Shown(Uri url) =>
        url.IsAbsoluteUri && url.Query.Length > 0 ? url.GetLeftPart(UriPartial.Path) + "?…" : url.ToString();

    private static AgentFailureException Invalid(string reason) => new(AgentFailureCodes.InvalidImageSource, reason);

    private static AgentFailureException Download(ImageSource source, string reason, Exception? inner = null) =>
        new(AgentFailureCodes.ImageDownloadFailed, $"cannot download image {source.ImageId}: {reason}", inner: inner);

    private static AgentFailureException Mismatch(ImageSource source, string reason) => new(AgentFailureCodes.ImageChecksumMismatch, reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Downloaded image {ImageId} ({Bytes} bytes, {Seconds:0.0} s, checksum verified) to {Path}")]
    private static partial void LogDownloaded(ILogger logger, Guid imageId, long bytes, double seconds, string path);
}
