using System.Net;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>One all-in-one cloud with SHA-512 turned off and every conversion progress step written (and logged).</summary>
public sealed class TimeToActiveCloud : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["CloudPortal__Images__HashAlgorithms"] = "sha256",
        ["CloudPortal__Images__ConversionProgressInterval"] = "00:00:00",
    };

    public TestCloud Cloud { get; private set; } = null!;

    public Tenants Tenants { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cloud = await TestCloud.StartAsync("all-in-one", Settings);
        Tenants = await Tenants.CreateAsync(Cloud);
    }

    public async ValueTask DisposeAsync()
    {
        if (Cloud is not null)
            await Cloud.DisposeAsync();
    }
}

/// <summary>
/// Time to active: a raw image is usable as soon as its data is in and verified (no conversion: raw backs an overlay as
/// it is); a VMDK still converts and shows how far it is. The hash policy: with SHA-512 off only SHA-256 is recorded,
/// and it is still what agents verify.
/// </summary>
public sealed class TimeToActiveTests(TimeToActiveCloud fixture) : IClassFixture<TimeToActiveCloud>
{
    private static readonly string[] OnlySha256 = ["sha256"];

    private TestCloud Cloud => fixture.Cloud;

    [Fact]
    public async Task A_raw_upload_is_active_at_once_without_a_conversion_and_with_SHA512_off_records_only_SHA256()
    {
        using var images = TestImages.Create();
        using var member = Api(Cloud, fixture.Tenants.Token("memberA"), fixture.Tenants.ProjectA);
        var raw = await File.ReadAllBytesAsync(images.Raw());
        var id = await CreateAsync(member, new { name = "raw-now", diskFormat = "raw" });

        // 204, not 202: active when the upload answers, with no job to wait for.
        using (var upload = await UploadAsync(member, id, raw))
            Assert.Equal(HttpStatusCode.NoContent, upload.StatusCode);
        var image = await ShowAsync(member, id);
        Assert.Equal("active", image.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, image.GetProperty("conversion").ValueKind);
        Assert.Equal(JsonValueKind.Null, image.GetProperty("conversionPercent").ValueKind);
        var compute = image.GetProperty("compute");
        Assert.Equal("raw", compute.GetProperty("format").GetString());
        Assert.Equal(Sha256(raw), compute.GetProperty("sha256").GetString());
        Assert.Equal(raw.Length, compute.GetProperty("size").GetInt64());
        // No converted copy was made: the store holds the upload alone, and intake stored it without a conversion to follow.
        Assert.Equal($"{id:N}.original", Path.GetFileName(Assert.Single(StoredFiles(Cloud, id))));
        var stored = await LogLineAsync($"Image {id}: {raw.Length} bytes of raw stored");
        Assert.DoesNotContain("converting", stored, StringComparison.Ordinal);

        // Only SHA-256 was computed, and the record says so.
        Assert.Equal(Sha256(raw), image.GetProperty("sha256").GetString());
        Assert.Equal(JsonValueKind.Null, image.GetProperty("sha512").ValueKind);
        Assert.Equal(OnlySha256, image.GetProperty("hashAlgorithms").EnumerateArray().Select(a => a.GetString()!).ToArray());
        using (var download = await member.GetAsync($"images/v2/images/{id}/file"))
        {
            download.EnsureSuccessStatusCode();
            Assert.Equal(Sha256(raw), download.Headers.GetValues("CloudPortal-Checksum-Sha256").Single());
            Assert.False(download.Headers.Contains("CloudPortal-Checksum-Sha512"));
        }

        // What agents fetch: the raw bytes themselves, with the SHA-256 they verify.
        var service = await Cloud.Oidc.ClientCredentialsAsync(Cloud.ServiceSecret);
        using var agent = Api(Cloud, service.AccessToken);
        using var fetched = await agent.GetAsync($"images/v2/images/{id}/compute-file");
        fetched.EnsureSuccessStatusCode();
        var bytes = await fetched.Content.ReadAsByteArrayAsync();
        Assert.Equal(raw, bytes);
        Assert.Equal(Sha256(bytes), fetched.Headers.GetValues("CloudPortal-Checksum-Sha256").Single());
        Assert.Equal("raw", fetched.Headers.GetValues("CloudPortal-Disk-Format").Single());
    }

    [Fact]
    public async Task A_vmdk_still_converts_showing_its_progress_then_becomes_active()
    {
        using var images = TestImages.Create();
        using var member = Api(Cloud, fixture.Tenants.Token("memberA"), fixture.Tenants.ProjectA);
        var vmdk = await File.ReadAllBytesAsync(await images.FullVmdkAsync());
        var id = await CreateAsync(member, new { name = "vmdk-converts", diskFormat = "vmdk" });

        using (var upload = await UploadAsync(member, id, vmdk))
            Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        var image = await WaitForStatusAsync(member, id, "active");
        Assert.Equal("done", image.GetProperty("conversion").GetString());
        Assert.Equal(100, image.GetProperty("conversionPercent").GetInt32());
        Assert.Equal("qcow2", image.GetProperty("compute").GetProperty("format").GetString());
        Assert.Equal(OnlySha256, image.GetProperty("hashAlgorithms").EnumerateArray().Select(a => a.GetString()!).ToArray());

        // Every step between 0 and 100 was written to the image (each write is logged after it), rising; all of them
        // are logged before the line saying the conversion is done.
        await LogLineAsync($"Image {id} converted from vmdk to qcow2");
        var marker = $"Conversion of image {id} at ";
        var steps = Cloud.IdentityProcess.Output.Split('\n')
            .Select(l => l.IndexOf(marker, StringComparison.Ordinal) is var at and >= 0 ? new string(l[(at + marker.Length)..].TakeWhile(char.IsAsciiDigit).ToArray()) : null)
            .OfType<string>().Select(int.Parse).ToList();
        Assert.NotEmpty(steps);
        Assert.All(steps, s => Assert.InRange(s, 1, 99));
        Assert.Equal(steps.Order(), steps);
    }

    /// <summary>The first line of the cloud's log containing <paramref name="text"/>, waiting for it (the log is written asynchronously).</summary>
    private async Task<string> LogLineAsync(string text)
    {
        string? line = null;
        await Eventually.TrueAsync(() =>
        {
            line = Cloud.IdentityProcess.Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            return Task.FromResult(line is not null);
        }, $"the log line '{text}'");
        return line!;
    }
}
