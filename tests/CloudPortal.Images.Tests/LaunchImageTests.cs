using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Web;
using CloudPortal.Contracts.Images;
using CloudPortal.Testing;
using MassTransit;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>
/// Compute's launch question over the real bus (<see cref="GetLaunchImage"/>), and the signed URL in its answer:
/// a project may launch exactly the images its members may use, and the URL opens that one image's compute copy,
/// anonymously, until it expires, and nothing else.
/// </summary>
public sealed class LaunchImageTests(LaunchCloud launch) : IClassFixture<LaunchCloud>
{
    private const string Launchable = "launchable";
    private static readonly TimeSpan TenMinutes = TimeSpan.FromMinutes(10);
    private static readonly string[] Visibilities = ["private", "shared", "community", "public"];
    private static readonly string[] States = ["active", "deactivated", "queued"];
    private static readonly string[] Callers = ["owner", "other", "accepted", "pending", "rejected"];

    private TestCloud Cloud => launch.Cloud;

    private Tenants Tenants => launch.Tenants;

    /// <summary>What project <paramref name="caller"/> is told about an image of the owner in that visibility and state.</summary>
    private static string Expected(string visibility, string state, string caller)
    {
        if (caller == "owner")
            return state switch { "active" => Launchable, "deactivated" => ImageLaunchCodes.Deactivated, _ => ImageLaunchCodes.NotActive };
        // Other projects see another's images only once they have data, as through the API.
        if (state == "queued" || visibility == "private" || (visibility == "shared" && caller == "other"))
            return ImageLaunchCodes.NotFound;
        if (visibility == "shared" && caller is "pending" or "rejected")
            return ImageLaunchCodes.MembershipNotAccepted;
        return state == "active" ? Launchable : ImageLaunchCodes.Deactivated;
    }

    [Fact]
    public async Task Every_visibility_state_and_membership_gets_exactly_its_launch_answer()
    {
        using var images = TestImages.Create();
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());
        var accepted = await ProjectWithMemberAsync(Cloud, Tenants, "accepted");
        var pending = await ProjectWithMemberAsync(Cloud, Tenants, "pending");
        var rejected = await ProjectWithMemberAsync(Cloud, Tenants, "rejected");
        var projects = new Dictionary<string, Guid>
        {
            ["owner"] = Tenants.ProjectA,
            ["other"] = Tenants.ProjectB,
            ["accepted"] = accepted.Project,
            ["pending"] = pending.Project,
            ["rejected"] = rejected.Project,
        };
        using var owner = Api(Cloud, Tenants.Token("memberA"), Tenants.ProjectA);
        using var admin = Api(Cloud, Tenants.AdminToken);
        var failures = new List<string>();
        var properties = new Dictionary<string, string> { ["hw_architecture"] = "x86_64", ["os_distro"] = "cirros" };

        foreach (var visibility in Visibilities)
        {
            foreach (var state in States)
            {
                var id = await CreateAsync(owner, new { name = $"{visibility}-{state}", diskFormat = "qcow2", visibility = "shared", minRamMb = 128, minDiskGb = 1, properties });
                if (state != "queued")
                {
                    await UploadOkAsync(owner, id, qcow2);
                    await WaitForStatusAsync(owner, id, "active");
                }
                foreach (var member in new[] { "accepted", "pending", "rejected" })
                {
                    (await owner.PostAsJsonAsync($"images/v2/images/{id}/members", new { member = projects[member] })).EnsureSuccessStatusCode();
                    // An admin may set any membership, also of an image the member cannot see yet (queued).
                    if (member != "pending")
                        (await admin.PutAsJsonAsync($"images/v2/images/{id}/members/{projects[member]}", new { status = member })).EnsureSuccessStatusCode();
                }
                // Memberships stay on record when the visibility changes, and must then grant nothing.
                if (visibility != "shared")
                    (await (visibility == "public" ? admin : owner).PatchAsJsonAsync($"images/v2/images/{id}", new { visibility })).EnsureSuccessStatusCode();
                if (state == "deactivated")
                    (await owner.PostAsync($"images/v2/images/{id}/actions/deactivate", null)).EnsureSuccessStatusCode();

                foreach (var caller in Callers)
                {
                    var answer = await launch.AskAsync(id, projects[caller], TenMinutes);
                    var actual = answer switch
                    {
                        LaunchImage => Launchable,
                        ImageNotLaunchable refused => refused.Code,
                        _ => answer.GetType().Name,
                    };
                    var expected = Expected(visibility, state, caller);
                    if (actual != expected)
                        failures.Add($"{visibility} × {state} × {caller}: {actual} (expected {expected}): {answer}");
                    if (answer is LaunchImage image)
                    {
                        var view = await ShowAsync(owner, id);
                        var compute = view.GetProperty("compute");
                        Assert.Equal((id, $"{visibility}-{state}", 128, 1, view.GetProperty("virtualSize").GetInt64()),
                            (image.ImageId, image.Name, image.MinRamMb, image.MinDiskGb, image.VirtualSizeBytes!.Value));
                        Assert.Equal(properties, image.Properties.ToDictionary());
                        Assert.Equal((id, compute.GetProperty("sha256").GetString(), compute.GetProperty("size").GetInt64(), "qcow2"),
                            (image.Source.ImageId, image.Source.Sha256, image.Source.SizeBytes!.Value, image.Source.DiskFormat));
                        Assert.StartsWith($"{Cloud.ImagesUrl}/images/v2/images/{id}/compute-file?expires=", image.Source.Url.ToString(), StringComparison.Ordinal);
                    }
                    if (answer is ImageNotLaunchable { Code: ImageLaunchCodes.NotActive } notActive)
                        Assert.Contains($"is {state}", notActive.Reason, StringComparison.Ordinal);
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Unknown_deleted_and_other_projects_private_images_get_the_same_sentence_and_unfinished_ones_name_their_state()
    {
        using var images = TestImages.Create();
        using var owner = Api(Cloud, Tenants.Token("memberA"), Tenants.ProjectA);
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());

        var secret = await CreateAsync(owner, new { name = "private", diskFormat = "qcow2" });
        await UploadOkAsync(owner, secret, qcow2);
        await WaitForStatusAsync(owner, secret, "active");
        var deleted = await CreateAsync(owner, new { name = "deleted", diskFormat = "qcow2", visibility = "community" });
        await UploadOkAsync(owner, deleted, qcow2);
        (await owner.DeleteAsync($"images/v2/images/{deleted}")).EnsureSuccessStatusCode();
        var unknown = Guid.NewGuid();

        var sentences = new List<string>();
        foreach (var (id, project) in new[] { (secret, Tenants.ProjectB), (deleted, Tenants.ProjectB), (deleted, Tenants.ProjectA), (unknown, Tenants.ProjectB) })
        {
            var refused = Assert.IsType<ImageNotLaunchable>(await launch.AskAsync(id, project, TenMinutes));
            Assert.Equal((id, ImageLaunchCodes.NotFound), (refused.ImageId, refused.Code));
            sentences.Add(refused.Reason.Replace(id.ToString(), "<image>", StringComparison.Ordinal).Replace(project.ToString(), "<project>", StringComparison.Ordinal));
        }
        Assert.Single(sentences.Distinct());

        // Killed: refused at intake.
        var killed = await CreateAsync(owner, new { name = "killed", diskFormat = "qcow2" });
        using (var refusedUpload = await UploadAsync(owner, killed, await File.ReadAllBytesAsync(await images.Qcow2WithBackingFileAsync())))
            Assert.Equal(HttpStatusCode.BadRequest, refusedUpload.StatusCode);
        var answer = Assert.IsType<ImageNotLaunchable>(await launch.AskAsync(killed, Tenants.ProjectA, TenMinutes));
        Assert.Equal(ImageLaunchCodes.NotActive, answer.Code);
        Assert.Contains("is killed", answer.Reason, StringComparison.Ordinal);

        // Converting: the row as the module commits it while its qcow2 copy is being made (no compute copy yet).
        var converting = await CreateAsync(owner, new { name = "converting", diskFormat = "vmdk" });
        await UploadOkAsync(owner, converting, await File.ReadAllBytesAsync(await images.VmdkAsync()));
        await WaitForStatusAsync(owner, converting, "active");
        await launch.UpdateRowAsync(converting, "\"Status\" = 'Saving', \"ConversionState\" = 'pending', \"ComputeFormat\" = NULL, \"ComputeSizeBytes\" = NULL, \"ComputeSha256\" = NULL");
        answer = Assert.IsType<ImageNotLaunchable>(await launch.AskAsync(converting, Tenants.ProjectA, TenMinutes));
        Assert.Equal(ImageLaunchCodes.NotActive, answer.Code);
        Assert.Contains("is converting", answer.Reason, StringComparison.Ordinal);

        // An ISO is active and downloadable, but no node boots it.
        var iso = await CreateAsync(owner, new { name = "cd", diskFormat = "iso" });
        await UploadOkAsync(owner, iso, await File.ReadAllBytesAsync(images.Iso()));
        await WaitForStatusAsync(owner, iso, "active");
        answer = Assert.IsType<ImageNotLaunchable>(await launch.AskAsync(iso, Tenants.ProjectA, TenMinutes));
        Assert.Equal(ImageLaunchCodes.FormatNotBootable, answer.Code);

        // A validity of zero is Compute's bug: the request faults rather than answering for the tenant.
        await Assert.ThrowsAsync<RequestFaultException>(() => launch.AskAsync(secret, Tenants.ProjectA, TimeSpan.Zero));
    }

    [Fact]
    public async Task A_raw_image_is_launched_as_itself_with_the_sha256_of_the_bytes_uploaded()
    {
        using var images = TestImages.Create();
        using var owner = Api(Cloud, Tenants.Token("memberA"), Tenants.ProjectA);
        var raw = await File.ReadAllBytesAsync(images.Raw());
        var id = await CreateAsync(owner, new { name = "raw-backing", diskFormat = "raw" });
        await UploadOkAsync(owner, id, raw);

        var answer = await launch.LaunchAsync(id, Tenants.ProjectA, TenMinutes);
        Assert.Equal((CloudPortal.Contracts.Compute.DiskFormats.Raw, Sha256(raw), (long?)raw.Length), (answer.Source.DiskFormat, answer.Source.Sha256, answer.Source.SizeBytes));
    }

    [Fact]
    public async Task The_signed_URL_downloads_the_compute_copy_anonymously_and_opens_nothing_else()
    {
        using var images = TestImages.Create();
        using var owner = Api(Cloud, Tenants.Token("memberA"), Tenants.ProjectA);
        using var anonymous = Api(Cloud, null);
        var vmdk = await File.ReadAllBytesAsync(await images.VmdkAsync());
        // VMDK data: the compute copy is the qcow2 conversion, not the bytes uploaded.
        var a = await CreateAsync(owner, new { name = "a", diskFormat = "vmdk" });
        var b = await CreateAsync(owner, new { name = "b", diskFormat = "vmdk" });
        foreach (var id in new[] { a, b })
        {
            await UploadOkAsync(owner, id, vmdk);
            await WaitForStatusAsync(owner, id, "active");
        }

        var before = DateTimeOffset.UtcNow;
        var answer = await launch.LaunchAsync(a, Tenants.ProjectA, TenMinutes);
        var url = answer.Source.Url;
        Assert.True(answer.DownloadExpiresAt >= before + TenMinutes, $"{answer.DownloadExpiresAt:O} is less than 10 minutes after {before:O}");
        Assert.Equal(answer.DownloadExpiresAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), Query(url)["expires"]);

        using var whole = await anonymous.GetAsync(url);
        Assert.True(whole.IsSuccessStatusCode, $"{(int)whole.StatusCode} {await whole.Content.ReadAsStringAsync()}");
        var bytes = await whole.Content.ReadAsByteArrayAsync();
        Assert.Equal(answer.Source.Sha256, Sha256(bytes));
        Assert.Equal(answer.Source.SizeBytes, bytes.Length);
        Assert.NotEqual(Sha256(vmdk), Sha256(bytes));
        Assert.Equal(answer.Source.Sha256, whole.Headers.GetValues("CloudPortal-Checksum-Sha256").Single());
        using (var range = new HttpRequestMessage(HttpMethod.Get, url))
        {
            range.Headers.Range = new RangeHeaderValue(1000, null);
            range.Headers.IfRange = new RangeConditionHeaderValue(whole.Headers.ETag!);
            using var rest = await anonymous.SendAsync(range);
            Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
            Assert.Equal(bytes[1000..], await rest.Content.ReadAsByteArrayAsync());
        }

        // Altered, moved to another image, incomplete or absent: refused, and nothing said about the image.
        var signature = Query(url)["signature"]!;
        var expires = Query(url)["expires"]!;
        var path = url.GetLeftPart(UriPartial.Path);
        var altered = (signature[0] == 'A' ? "B" : "A") + signature[1..];
        await ExpectProblem(anonymous.GetAsync($"{path}?expires={expires}&signature={altered}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync($"{path}?expires={long.Parse(expires, System.Globalization.CultureInfo.InvariantCulture) + 3600}&signature={signature}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync($"images/v2/images/{b}/compute-file{url.Query}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync($"images/v2/images/{Guid.NewGuid()}/compute-file{url.Query}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync($"{path}?expires={expires}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync($"{path}?expires=soon&signature={signature}"), 403, "invalid_download_signature");
        await ExpectProblem(anonymous.GetAsync(path), 401, "unauthenticated");
        // A tenant's token is no way in either; a service token still is.
        await ExpectProblem(owner.GetAsync(path), 403, "forbidden");
        var service = await Cloud.Oidc.ClientCredentialsAsync(Cloud.ServiceSecret);
        using (var agent = Api(Cloud, service.AccessToken))
            Assert.Equal(bytes, await agent.GetByteArrayAsync(path));

        // The URL follows the image: refused while it is deactivated, back after, and dead once the image is deleted.
        (await owner.PostAsync($"images/v2/images/{a}/actions/deactivate", null)).EnsureSuccessStatusCode();
        await ExpectProblem(anonymous.GetAsync(url), 409, "image_not_active");
        (await owner.PostAsync($"images/v2/images/{a}/actions/reactivate", null)).EnsureSuccessStatusCode();
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(url));
        var ofB = (await launch.LaunchAsync(b, Tenants.ProjectA, TenMinutes)).Source.Url;
        (await owner.DeleteAsync($"images/v2/images/{b}")).EnsureSuccessStatusCode();
        await ExpectProblem(anonymous.GetAsync(ofB), 403, "invalid_download_signature");

        // A validity over a day is cut to a day.
        var asked = DateTimeOffset.UtcNow;
        var capped = await launch.LaunchAsync(a, Tenants.ProjectA, TimeSpan.FromDays(2));
        var answered = DateTimeOffset.UtcNow;
        Assert.InRange(capped.DownloadExpiresAt, asked + TimeSpan.FromDays(1), answered + TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        // A URL valid for a second, used after it expired.
        var brief = await launch.LaunchAsync(a, Tenants.ProjectA, TimeSpan.FromSeconds(1));
        var wait = brief.DownloadExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
        if (wait > TimeSpan.Zero)
            await Task.Delay(wait, TestContext.Current.CancellationToken);
        await ExpectProblem(anonymous.GetAsync(brief.Source.Url), 403, "download_url_expired");
    }

    private static System.Collections.Specialized.NameValueCollection Query(Uri url) => HttpUtility.ParseQueryString(url.Query);
}
