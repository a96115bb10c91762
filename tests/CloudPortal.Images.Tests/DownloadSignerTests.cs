using System.Web;
using CloudPortal.Images.Launch;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>The signing key on a real filesystem, and what a signature covers; times are given, not waited for.</summary>
public sealed class DownloadSignerTests : IDisposable
{
    private static readonly Uri PublicUrl = new("http://images.internal:9292");
    private static readonly DateTimeOffset Now = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly string Sha = new('a', 64);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"cloudportal-signer-{Guid.NewGuid():N}");

    [Fact]
    public async Task Replicas_starting_together_make_one_owner_only_key_and_accept_each_others_urls()
    {
        Directory.CreateDirectory(_directory);
        var replicas = Enumerable.Range(0, 8).Select(_ => new DownloadSigner(_directory, PublicUrl)).ToList();
        var image = Guid.NewGuid();
        var expires = Now.AddMinutes(5);
        using var start = new ManualResetEventSlim();
        var issuing = replicas.Select(r => Task.Run(() =>
        {
            start.Wait(TestContext.Current.CancellationToken);
            return r.Issue(image, Sha, expires);
        })).ToList();
        start.Set();
        var urls = await Task.WhenAll(issuing);

        Assert.Single(urls.Distinct());
        foreach (var replica in replicas)
            Assert.Equal(DownloadSignature.Valid, Check(replica, image, Sha, urls[0], Now));
        var key = Assert.Single(Directory.GetFiles(_directory));
        Assert.Equal(DownloadSigner.KeyFileName, Path.GetFileName(key));
        Assert.Equal(32, new FileInfo(key).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));

        // A later process reads the same key; a fresh directory is another key, whose URLs the first one refuses.
        Assert.Equal(DownloadSignature.Valid, Check(new DownloadSigner(_directory, PublicUrl), image, Sha, urls[0], Now));
        var elsewhere = new DownloadSigner(Path.Combine(_directory, "other"), PublicUrl);
        Assert.Equal(DownloadSignature.Invalid, Check(elsewhere, image, Sha, urls[0], Now));
    }

    [Fact]
    public void A_signature_covers_the_image_the_expiry_and_the_copy_and_expires_at_its_second()
    {
        var signer = new DownloadSigner(_directory, new Uri("https://cloud.example/api/"));
        var image = Guid.NewGuid();
        var expires = DownloadSigner.ExpiryFor(Now, TimeSpan.FromMinutes(5));
        var url = signer.Issue(image, Sha, expires);
        Assert.StartsWith($"https://cloud.example/api/images/v2/images/{image}/compute-file?expires={expires.ToUnixTimeSeconds()}&signature=", url.ToString(), StringComparison.Ordinal);

        Assert.Equal(DownloadSignature.Valid, Check(signer, image, Sha, url, Now));
        Assert.Equal(DownloadSignature.Valid, Check(signer, image, Sha.ToUpperInvariant(), url, Now));
        Assert.Equal(DownloadSignature.Invalid, Check(signer, Guid.NewGuid(), Sha, url, Now));
        Assert.Equal(DownloadSignature.Invalid, Check(signer, image, new string('b', 64), url, Now));
        Assert.Equal(DownloadSignature.Invalid, Check(signer, image, null, url, Now));
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal(DownloadSignature.Invalid, signer.Verify(image, Sha, (expires.ToUnixTimeSeconds() + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), query["signature"], Now));
        Assert.Equal(DownloadSignature.Invalid, signer.Verify(image, Sha, query["expires"], query["signature"]![..^2], Now));
        Assert.Equal(DownloadSignature.Invalid, signer.Verify(image, Sha, query["expires"], query["signature"] + "AA", Now));
        Assert.Equal(DownloadSignature.Invalid, signer.Verify(image, Sha, "-" + query["expires"], query["signature"], Now));
        Assert.Equal(DownloadSignature.Invalid, signer.Verify(image, Sha, query["expires"], null, Now));

        Assert.Equal(DownloadSignature.Valid, Check(signer, image, Sha, url, expires.AddTicks(-1)));
        Assert.Equal(DownloadSignature.Expired, Check(signer, image, Sha, url, expires));
        Assert.Equal(DownloadSignature.Expired, Check(signer, image, Sha, url, expires.AddDays(1)));
    }

    [Fact]
    public void Validity_is_positive_at_most_a_day_and_rounded_up_to_a_second()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DownloadSigner.ValidityFor(TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => DownloadSigner.ValidityFor(TimeSpan.FromSeconds(-1)));
        Assert.Equal(TimeSpan.FromMinutes(30), DownloadSigner.ValidityFor(TimeSpan.FromMinutes(30)));
        Assert.Equal(TimeSpan.FromHours(24), DownloadSigner.ValidityFor(TimeSpan.FromDays(3)));
        Assert.Equal(Now.AddSeconds(2), DownloadSigner.ExpiryFor(Now, TimeSpan.FromMilliseconds(1500)));
        Assert.Equal(Now.AddSeconds(1), DownloadSigner.ExpiryFor(Now, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_key_file_of_the_wrong_size_is_an_error_that_says_what_to_do()
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllBytes(Path.Combine(_directory, DownloadSigner.KeyFileName), new byte[7]);
        var signer = new DownloadSigner(_directory, PublicUrl);
        var error = Assert.Throws<InvalidDataException>(() => signer.Issue(Guid.NewGuid(), Sha, Now));
        Assert.Contains("is 7 bytes, not 32; delete it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_url_that_is_not_an_http_address_stops_the_start_with_a_sentence()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var environment = new Dictionary<string, string?> { ["CloudPortal__Images__PublicUrl"] = "images.internal:9292" };
        var result = await CloudPortalProcess.RunAsync(["all-in-one", "--urls", $"http://127.0.0.1:{FreePort.Next()}", "--data-dir", deployment.DataDir], environment);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("cloudportal: error: CloudPortal:Images:PublicUrl must be an http(s) URL", result.StandardError, StringComparison.Ordinal);
    }

    private static DownloadSignature Check(DownloadSigner signer, Guid image, string? sha, Uri url, DateTimeOffset now)
    {
        var query = HttpUtility.ParseQueryString(url.Query);
        return signer.Verify(image, sha, query["expires"], query["signature"], now);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }
}
