using System.Net;
using System.Net.Http.Json;
using CloudPortal.Testing;
using Npgsql;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>
/// The limits the Images module enforces follow Identity: through events, including the removal of an override, and
/// through the snapshot it asks Identity for when it starts, for whatever events it missed.
/// </summary>
public sealed class QuotaLimitFeedTests
{
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_project_whose_override_was_removed_follows_the_default_and_its_later_changes(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        await SetQuotaAsync(cloud, tenants, tenants.ProjectA, "images", 3, tenants.Token("readerA"));

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"identity/v1/projects/{tenants.ProjectA}/quota/images")).StatusCode);
        await WaitForLimitAsync(member, tenants.ProjectA, "images", 100);

        // The default changes after the removal: the project follows it, as a project that never had an override does.
        (await admin.PutAsJsonAsync("identity/v1/quota-defaults/images", new { limit = 2 })).EnsureSuccessStatusCode();
        await WaitForLimitAsync(member, tenants.ProjectA, "images", 2);
        using var other = Api(cloud, tenants.Token("memberB"), tenants.ProjectB);
        Assert.Equal(2, await LimitAsync(other, tenants.ProjectB, "images"));

        await CreateAsync(member, new { name = "one" });
        await CreateAsync(member, new { name = "two" });
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "three" }), 409, "image_quota_exceeded");
    }

    [Fact]
    public async Task An_images_process_that_missed_limit_changes_learns_them_from_identity_when_it_starts()
    {
        await using var cloud = await TestCloud.StartAsync("distributed");
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        await SetQuotaAsync(cloud, tenants, tenants.ProjectA, "images", 5, tenants.Token("readerA"));

        await cloud.StopImagesAsync();
        (await admin.PutAsJsonAsync("identity/v1/quota-defaults/images", new { limit = 2 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"identity/v1/projects/{tenants.ProjectA}/quota/images", new { limit = 1 })).EnsureSuccessStatusCode();
        // Both events reached the broker, which now loses them: the images queue is emptied before the process returns.
        await WaitForSentLimitEventsAsync(cloud, 3);
        await cloud.Deployment.RabbitMq!.PurgeQueueAsync("images-quota-limits");

        await cloud.StartImagesAsync();
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var other = Api(cloud, tenants.Token("memberB"), tenants.ProjectB);
        await WaitForLimitAsync(member, tenants.ProjectA, "images", 1);
        await WaitForLimitAsync(other, tenants.ProjectB, "images", 2);

        await CreateAsync(member, new { name = "a-1" });
        await ExpectProblem(member.PostAsJsonAsync("images/v2/images", new { name = "a-2" }), 409, "image_quota_exceeded");
        await CreateAsync(other, new { name = "b-1" });
        await CreateAsync(other, new { name = "b-2" });
        await ExpectProblem(other.PostAsJsonAsync("images/v2/images", new { name = "b-3" }), 409, "image_quota_exceeded");
    }

    /// <summary>Waits until Identity's outbox has relayed <paramref name="count"/> limit events (the broker confirmed them).</summary>
    private static async Task WaitForSentLimitEventsAsync(TestCloud cloud, long count)
    {
        await using var connection = new NpgsqlConnection(cloud.Deployment.Postgres!.ConnectionString("identity"));
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                """select count(*) from outbox_messages where "MessageType" like 'CloudPortal.Contracts.Identity.ProjectQuotaChanged,%' and "SentAt" is not null""",
                connection);
            var sent = (long)(await command.ExecuteScalarAsync())!;
            if (sent == count)
                return;
            Assert.True(DateTime.UtcNow < deadline, $"Identity relayed {sent} of {count} limit events within 30 s");
            await Task.Delay(200);
        }
    }
}
