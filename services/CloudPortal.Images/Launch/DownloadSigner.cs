using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CloudPortal.ServiceDefaults.Security;

namespace CloudPortal.Images.Launch;

/// <summary>What a signed download URL's query parameters say about a request.</summary>
public enum DownloadSignature
{
    Valid,

    /// <summary>Malformed, altered, for another image or another copy of its data (or the image is gone).</summary>
    Invalid,

    /// <summary>Genuine, but past its expiry.</summary>
    Expired,
}

/// <summary>
/// Signs and checks the URLs compute nodes fetch images with: <c>{PublicUrl}/images/v2/images/{id}/compute-file
/// ?expires=&lt;unix seconds&gt;&amp;signature=&lt;base64url&gt;</c>, the signature an HMAC-SHA256 over the image id,
/// the expiry and the compute copy's SHA-256. A URL thus opens one image's one copy until it expires, and stops
/// working when the data changes or the image is deleted. The key is 32 random bytes in a file only this module
/// reads, under the image storage path that replicas share, so every replica checks every replica's URLs.
/// </summary>
public sealed class DownloadSigner
{
    public const string KeyFileName = "download-signing.key";
    public const string ExpiresParameter = "expires";
    public const string SignatureParameter = "signature";

    /// <summary>The longest validity a URL is issued for; a longer request gets this.</summary>
    public static readonly TimeSpan MaxValidity = TimeSpan.FromHours(24);

    private const int KeyBytes = 32;
    private readonly Lock _gate = new();
    private readonly string _baseUrl;
    private byte[]? _key;

    /// <param name="keyDirectory">Where the key file lives (the image storage path).</param>
    /// <param name="publicUrl">The address compute nodes reach this module at; a path in it is kept as a prefix.</param>
    public DownloadSigner(string keyDirectory, Uri publicUrl)
    {
        ArgumentNullException.ThrowIfNull(publicUrl);
        KeyPath = Path.Combine(Path.GetFullPath(keyDirectory), KeyFileName);
        _baseUrl = publicUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public string KeyPath { get; }

    /// <summary>
    /// The validity a URL gets for a request of <paramref name="requested"/>: at most <see cref="MaxValidity"/>.
    /// Zero or less is the requester's bug and throws.
    /// </summary>
    public static TimeSpan ValidityFor(TimeSpan requested) =>
        requested <= TimeSpan.Zero
            ? throw new ArgumentOutOfRangeException(nameof(requested), requested, "a download URL must be valid for a positive time")
            : requested > MaxValidity ? MaxValidity : requested;

    /// <summary>The expiry of a URL valid for <paramref name="validity"/> from <paramref name="now"/>, rounded up to a whole second.</summary>
    public static DateTimeOffset ExpiryFor(DateTimeOffset now, TimeSpan validity)
    {
        var at = now + validity;
        var seconds = at.ToUnixTimeSeconds();
        return DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.FromUnixTimeSeconds(seconds) < at ? seconds + 1 : seconds);
    }

    /// <summary>The signed URL of the compute copy with SHA-256 <paramref name="computeSha256"/>, valid until <paramref name="expiresAt"/> (whole seconds).</summary>
    public Uri Issue(Guid imageId, string computeSha256, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(computeSha256);
        var expires = expiresAt.ToUnixTimeSeconds();
        var signature = Base64Url.EncodeToString(Sign(imageId, expires, computeSha256));
        return new Uri($"{_baseUrl}/images/v2/images/{imageId:D}/compute-file?{ExpiresParameter}={expires.ToString(CultureInfo.InvariantCulture)}&{SignatureParameter}={signature}");
    }

    /// <summary>
    /// Checks a request's parameters against the image's current compute copy (<paramref name="computeSha256"/>
    /// null: the image is unknown, deleted or has no copy, which answers the same as a bad signature).
    /// </summary>
    public DownloadSignature Verify(Guid imageId, string? computeSha256, string? expires, string? signature, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(signature) || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            return DownloadSignature.Invalid;
        Span<byte> given = stackalloc byte[KeyBytes];
        if (signature.Length != Base64Url.GetEncodedLength(KeyBytes) || !Base64Url.TryDecodeFromChars(signature, given, out var written) || written != KeyBytes)
            return DownloadSignature.Invalid;
        // An unknown image is checked against a key-derived value too, so it takes the path a real one does.
        var expected = Sign(imageId, seconds, computeSha256 ?? "");
        if (!CryptographicOperations.FixedTimeEquals(expected, given) || computeSha256 is null)
            return DownloadSignature.Invalid;
        return now.ToUnixTimeSeconds() >= seconds ? DownloadSignature.Expired : DownloadSignature.Valid;
    }

    private byte[] Sign(Guid imageId, long expires, string computeSha256)
    {
        // A purpose prefix and one field per line: no two (id, expiry, checksum) triples share a message.
        var message = $"cloudportal-compute-file\n{imageId:D}\n{expires.ToString(CultureInfo.InvariantCulture)}\n{computeSha256.ToLowerInvariant()}";
        return HMACSHA256.HashData(Key(), Encoding.UTF8.GetBytes(message));
    }

    private byte[] Key()
    {
        lock (_gate)
            return _key ??= LoadOrCreate(KeyPath);
    }

    /// <summary>
    /// Reads the key, or creates it. The key file is created exclusively (<c>O_CREAT|O_EXCL</c>: one replica wins) and
    /// held with an exclusive lock while it is written, so replicas starting together all end up with the one key
    /// that got there first; a reader that meets the file locked or still short is looking at a key being written,
    /// and reads again. (The earlier hard-link move is not atomic on every filesystem: where links are refused, .NET
    /// falls back to a rename that replaces.)
    /// </summary>
    private static byte[] LoadOrCreate(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            if (!File.Exists(path))
            {
                var options = OwnerOnlyFile.CreateOptions();
                options.Share = FileShare.None;
                try
                {
                    using var file = new FileStream(path, options);
                    var key = RandomNumberGenerator.GetBytes(KeyBytes);
                    file.Write(key);
                    file.Flush(flushToDisk: true);
                    return key;
                }
                catch (IOException) when (File.Exists(path))
                {
                    // Another replica created it first: read its key.
                }
            }
            if (Read(path, final: DateTime.UtcNow > deadline) is { } existing)
                return existing;
            Thread.Sleep(10);
        }
    }

    /// <param name="final">Past the deadline a short key is a broken file, not one being written.</param>
    private static byte[]? Read(string path, bool final)
    {
        byte[] key;
        try
        {
            key = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException || (ex is IOException && !final))
        {
            return null;   // gone, or locked by the replica writing it
        }
        if (key.Length == KeyBytes)
            return key;
        return final
            ? throw new InvalidDataException($"the download signing key {path} is {key.Length} bytes, not {KeyBytes}; delete it to have a new one made (download URLs issued so far then stop working)")
            : null;
    }
}
