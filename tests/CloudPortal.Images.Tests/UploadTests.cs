using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>Upload, intake and download through the real binary: bytes and hashes round-trip; bad images never get in.</summary>
public sealed class UploadTests
{
    private static readonly string[] TestTag = ["test"];
    private static readonly string[] BothHashes = ["sha256", "sha512"];

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Qcow2_raw_and_iso_images_upload_and_download_as_identical_bytes_with_their_hashes(string mode)
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var api = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);

        foreach (var (format, path) in new[] { ("qcow2", await images.Qcow2Async()), ("raw", images.Raw()), ("iso", images.Iso()), ("vmdk", await images.VmdkAsync()) })
        {
            var data = await File.ReadAllBytesAsync(path);
            var id = await CreateAsync(api, new { name = $"test-{format}", diskFormat = format, tags = TestTag });
            Assert.Equal("queued", (await ShowAsync(api, id)).GetProperty("status").GetString());
            await UploadOkAsync(api, id, data);
            var image = await WaitForStatusAsync(api, id, "active");

            Assert.Equal(data.Length, image.GetProperty("size").GetInt64());
            Assert.Equal(Sha256(data), image.GetProperty("sha256").GetString());
            Assert.Equal(Sha512(data), image.GetProperty("sha512").GetString());
            Assert.Equal(format, image.GetProperty("diskFormat").GetString());

            using var download = await api.GetAsync($"images/v2/images/{id}/file");
            download.EnsureSuccessStatusCode();
            var back = await download.Content.ReadAsByteArrayAsync();
            Assert.Equal(data, back);
            Assert.Equal(Sha256(data), download.Headers.GetValues("CloudPortal-Checksum-Sha256").Single());
            Assert.Equal(Sha512(data), download.Headers.GetValues("CloudPortal-Checksum-Sha512").Single());

            // VMDK is converted for the compute backend, the original checksum staying recorded; qcow2 and raw back an
            // overlay as they are: no conversion, no second file, the compute copy is the upload itself.
            var compute = image.GetProperty("compute");
            Assert.Equal(format is "vmdk" ? "qcow2" : format, compute.GetProperty("format").GetString());
            Assert.Equal(BothHashes, image.GetProperty("hashAlgorithms").EnumerateArray().Select(a => a.GetString()!).ToArray());
            if (format is "vmdk")
            {
                Assert.NotEqual(Sha256(data), compute.GetProperty("sha256").GetString());
                Assert.Equal("done", image.GetProperty("conversion").GetString());
                Assert.Equal(100, image.GetProperty("conversionPercent").GetInt32());
            }
            else
            {
                Assert.Equal(Sha256(data), compute.GetProperty("sha256").GetString());
                Assert.Equal(JsonValueKind.Null, image.GetProperty("conversion").ValueKind);
                Assert.Equal(JsonValueKind.Null, image.GetProperty("conversionPercent").ValueKind);
                Assert.Equal($"{id:N}.original", Path.GetFileName(Assert.Single(StoredFiles(cloud, id))));
            }
        }
    }

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_compute_agent_downloads_with_a_service_token_verifies_the_checksum_and_resumes_with_a_range(string mode)
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var raw = await File.ReadAllBytesAsync(images.Raw());
        var id = await CreateAsync(member, new { name = "for-agents", diskFormat = "raw" });
        await UploadOkAsync(member, id, raw);
        var image = await WaitForStatusAsync(member, id, "active");
        var expected = image.GetProperty("compute").GetProperty("sha256").GetString();

        var service = await cloud.Oidc.ClientCredentialsAsync(cloud.ServiceSecret);
        using var agent = Api(cloud, service.AccessToken);
        using var whole = await agent.GetAsync($"images/v2/images/{id}/compute-file");
        whole.EnsureSuccessStatusCode();
        var bytes = await whole.Content.ReadAsByteArrayAsync();
        Assert.Equal(expected, whole.Headers.GetValues("CloudPortal-Checksum-Sha256").Single());
        Assert.Equal(expected, Sha256(bytes));
        // Raw is not converted: agents get the bytes uploaded, as raw.
        Assert.Equal(Sha256(raw), expected);
        Assert.Equal("raw", whole.Headers.GetValues("CloudPortal-Disk-Format").Single());
        Assert.Equal("bytes", whole.Headers.AcceptRanges.Single());

        // Resume: the rest from an offset, only if the data is still the same (If-Range on the ETag).
        using var request = new HttpRequestMessage(HttpMethod.Get, $"images/v2/images/{id}/compute-file");
        request.Headers.Range = new RangeHeaderValue(1000, null);
        request.Headers.IfRange = new RangeConditionHeaderValue(whole.Headers.ETag!);
        using var rest = await agent.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[1000..], await rest.Content.ReadAsByteArrayAsync());

        // Tenants cannot use the agents' endpoint without a signed URL; agents cannot change images.
        await ExpectProblem(member.GetAsync($"images/v2/images/{id}/compute-file"), 403, "forbidden");
        await ExpectProblem(agent.DeleteAsync($"images/v2/images/{id}"), 403, "not_image_owner");
    }

    [Fact]
    public async Task A_qcow2_with_a_backing_file_and_images_whose_declared_format_lies_are_refused_with_their_reason()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var api = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());
        var raw = await File.ReadAllBytesAsync(images.Raw());

        var cases = new (string Name, string Declared, byte[] Data, string Code)[]
        {
            ("overlay.qcow2", "qcow2", await File.ReadAllBytesAsync(await images.Qcow2WithBackingFileAsync()), "qcow2_backing_file"),
            ("really-qcow2.raw", "raw", qcow2, "disk_format_mismatch"),
            ("really-raw.qcow2", "qcow2", raw, "disk_format_mismatch"),
            ("not-an.iso", "iso", raw, "disk_format_mismatch"),
        };
        foreach (var (name, declared, data, code) in cases)
        {
            var id = await CreateAsync(api, new { name, diskFormat = declared });
            await ExpectProblem(UploadAsync(api, id, data), 400, code);
            var image = await ShowAsync(api, id);
            Assert.Equal("killed", image.GetProperty("status").GetString());
            Assert.Equal(code, image.GetProperty("failure").GetProperty("code").GetString());
            Assert.False(string.IsNullOrWhiteSpace(image.GetProperty("failure").GetProperty("reason").GetString()));
            Assert.Empty(StoredFiles(cloud, id));
            await ExpectProblem(api.GetAsync($"images/v2/images/{id}/file"), 409, "image_not_active");
        }

        // Without a declared format the bytes decide.
        var detected = await CreateAsync(api, new { name = "no-format-given" });
        await UploadOkAsync(api, detected, qcow2);
        Assert.Equal("qcow2", (await WaitForStatusAsync(api, detected, "active")).GetProperty("diskFormat").GetString());
    }

    [Fact]
    public async Task A_qcow2_whose_tables_exceed_qemu_imgs_memory_limit_is_refused_as_too_complex()
    {
        // 64 MiB: an ordinary qcow2 opens within it, the crafted header's tables do not (see TestImages.Qcow2WithHugeTables).
        await using var cloud = await TestCloud.StartAsync("all-in-one", new Dictionary<string, string?> { ["CloudPortal__Images__QemuImgInfoAddressSpace"] = "67108864" });
        using var images = TestImages.Create();
        var tenants = await Tenants.CreateAsync(cloud);
        using var api = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);

        var ordinary = await CreateAsync(api, new { name = "ordinary", diskFormat = "qcow2" });
        await UploadOkAsync(api, ordinary, await File.ReadAllBytesAsync(await images.Qcow2Async()));
        await WaitForStatusAsync(api, ordinary, "active");

        var hostile = await CreateAsync(api, new { name = "huge-tables", diskFormat = "qcow2" });
        await ExpectProblem(UploadAsync(api, hostile, await File.ReadAllBytesAsync(images.Qcow2WithHugeTables())), 400, "image_too_complex");
        var image = await ShowAsync(api, hostile);
        Assert.Equal("killed", image.GetProperty("status").GetString());
        Assert.Equal("image_too_complex", image.GetProperty("failure").GetProperty("code").GetString());
        Assert.Contains("memory or CPU limit", image.GetProperty("failure").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(StoredFiles(cloud, hostile));
    }

    [Fact]
    public async Task An_upload_beyond_the_size_cap_is_refused_and_leaves_the_image_queued_with_no_data()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one", new Dictionary<string, string?> { ["CloudPortal__Images__MaxImageBytes"] = "2097152" });
        var tenants = await Tenants.CreateAsync(cloud);
        using var api = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var tooLarge = new byte[3 << 20];
        Random.Shared.NextBytes(tooLarge);

        // Announced too large: refused before reading.
        var announced = await CreateAsync(api, new { name = "announced", diskFormat = "raw" });
        await ExpectProblem(UploadAsync(api, announced, tooLarge), 413, "image_too_large");
        Assert.Equal("queued", (await ShowAsync(api, announced)).GetProperty("status").GetString());
        Assert.Empty(StoredFiles(cloud, announced));

        // Chunked, length unknown: refused once the cap is crossed, the partial file deleted.
        var chunked = await CreateAsync(api, new { name = "chunked", diskFormat = "raw" });
        var content = new StreamContent(new UnknownLengthStream(tooLarge));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        await ExpectProblem(api.PutAsync($"images/v2/images/{chunked}/file", content), 413, "image_too_large");
        Assert.Equal("queued", (await ShowAsync(api, chunked)).GetProperty("status").GetString());
        Assert.Empty(StoredFiles(cloud, chunked));

        // The image is still usable with data under the cap.
        await UploadOkAsync(api, chunked, GuestImage.Raw());
        await WaitForStatusAsync(api, chunked, "active");
    }

    [Fact]
    public async Task An_upload_cut_off_mid_stream_leaves_the_image_queued_with_nothing_half_stored()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var api = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var id = await CreateAsync(api, new { name = "cut-off", diskFormat = "raw" });

        var url = new Uri(cloud.ImagesUrl);
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(url.Host, url.Port);
            var stream = tcp.GetStream();
            var head = $"PUT /images/v2/images/{id}/file HTTP/1.1\r\nHost: {url.Authority}\r\nAuthorization: Bearer {tenants.Token("memberA")}\r\n" +
                       $"CloudPortal-Project: {tenants.ProjectA}\r\nContent-Type: application/octet-stream\r\nContent-Length: {8 << 20}\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(new byte[3 << 20]);
            await stream.FlushAsync();
            // Only once the server is receiving (saving) does the connection drop.
            await WaitForStatusAsync(api, id, "saving");
            tcp.Client.LingerState = new LingerOption(true, 0);
        }

        await WaitForStatusAsync(api, id, "queued");
        Assert.Empty(StoredFiles(cloud, id));
        var image = await ShowAsync(api, id);
        Assert.Equal(JsonValueKind.Null, image.GetProperty("size").ValueKind);

        // A complete upload afterwards succeeds.
        await UploadOkAsync(api, id, GuestImage.Raw());
        await WaitForStatusAsync(api, id, "active");
    }

    /// <summary>A stream HttpClient cannot measure, so it sends the body chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
