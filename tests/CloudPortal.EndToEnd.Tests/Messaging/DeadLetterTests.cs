using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Messaging;

/// <summary>
/// Dead letters through the real binary: outbox rows the relay sets aside and messages a real consumer (the
/// Scheduler's <c>ComputeNodeReported</c>) keeps failing on, listed, replayed and discarded over
/// <c>/messaging/v1/dead-letters</c> and <c>cloudportal admin dead-letters</c>; all-in-one (SQLite, in-memory bus: the
/// capture) and distributed (PostgreSQL, RabbitMQ: the broker's error queues). One cloud per mode.
/// </summary>
public abstract class DeadLetterTests(DeadLetterCloud fixture)
{
    /// <summary>A report without a host: the Scheduler cannot track a node without its key, however often it retries.</summary>
    private const string UnstorableReport = "CloudPortal.Contracts.Scheduler.ComputeNodeReported, CloudPortal.Contracts";

    [Fact]
    public async Task A_message_its_consumer_keeps_failing_on_is_listed_with_its_reason_replayed_to_its_queue_and_discarded_for_good()
    {
        var cloud = fixture.Cloud;
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.IdentityUrl, admin.AccessToken);
        var (replayed, _) = await OutboxRow.InsertAsync(cloud, "identity", UnstorableReport, "{}");
        var (discarded, _) = await OutboxRow.InsertAsync(cloud, "identity", UnstorableReport, "{}");

        var first = await WaitForAsync(api, $"{replayed} in the dead letters", all => Find(all, replayed));
        var other = await WaitForAsync(api, $"{discarded} in the dead letters", all => Find(all, discarded));
        Assert.StartsWith("queue:", first.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("queue:compute-node-reported_error", first.GetProperty("source").GetString());
        Assert.Equal("queue:compute-node-reported", first.GetProperty("destination").GetString());
        Assert.Equal("CloudPortal.Contracts.Scheduler:ComputeNodeReported", first.GetProperty("messageType").GetString());
        Assert.Contains("System.InvalidOperationException: Unable to track", first.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.EndsWith("Z", first.GetProperty("failedAt").GetString(), StringComparison.Ordinal);
        var id = first.GetProperty("id").GetString()!;
        if (cloud.Deployment.IsDistributed)
        {
            // Every process reads the same error queues of the broker.
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, admin.AccessToken);
            Assert.Equal(id, Find(await ListAsync(scheduler), replayed)?.GetProperty("id").GetString());
        }
        var detail = await api.GetFromJsonAsync<JsonElement>($"messaging/v1/dead-letters/{Uri.EscapeDataString(id)}");
        Assert.Contains(replayed.ToString(), detail.GetProperty("body").GetString(), StringComparison.Ordinal);

        using (var replay = await api.PostAsync($"messaging/v1/dead-letters/{Uri.EscapeDataString(id)}/replay", null))
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        var otherId = other.GetProperty("id").GetString()!;
        using (var discard = await api.DeleteAsync($"messaging/v1/dead-letters/{Uri.EscapeDataString(otherId)}"))
            Assert.Equal(HttpStatusCode.NoContent, discard.StatusCode);
        await ProblemAssert.ExpectAsync(api.DeleteAsync($"messaging/v1/dead-letters/{Uri.EscapeDataString(otherId)}"), 404, "dead_letter_not_found");

        // The replayed message reached the consumer again, which failed on it again: it is back, failed later.
        var again = await WaitForAsync(api, $"{replayed} failing again after its replay",
            all => Find(all, replayed) is { } e && e.GetProperty("failedAt").GetDateTime() > first.GetProperty("failedAt").GetDateTime() ? e : null);
        Assert.Equal(id, again.GetProperty("id").GetString());
        // By then the discarded one would have come back too, had it stayed in the error queue.
        Assert.Null(Find(await ListAsync(api), discarded));

        using (var cleanup = await api.DeleteAsync($"messaging/v1/dead-letters/{Uri.EscapeDataString(id)}"))
            Assert.Equal(HttpStatusCode.NoContent, cleanup.StatusCode);
    }

    [Fact]
    public async Task An_outbox_row_set_aside_is_listed_replay_lets_the_relay_try_it_again_and_discard_deletes_it()
    {
        var cloud = fixture.Cloud;
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.IdentityUrl, admin.AccessToken);
        var (messageId, sequence) = await OutboxRow.InsertAsync(cloud, "identity", "CloudPortal.Contracts.Gone.NoLongerExists, CloudPortal.Contracts", """{"a":1}""");
        var id = $"outbox:identity:{sequence}";

        var letter = await WaitForAsync(api, $"{id} in the dead letters", all => Find(all, messageId));
        Assert.Equal(id, letter.GetProperty("id").GetString());
        Assert.Equal("outbox:identity", letter.GetProperty("source").GetString());
        Assert.Equal("publish", letter.GetProperty("destination").GetString());
        Assert.Contains("unknown message type", letter.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var detail = await api.GetFromJsonAsync<JsonElement>($"messaging/v1/dead-letters/{id}");
        Assert.Equal("""{"a":1}""", detail.GetProperty("body").GetString());
        if (cloud.Deployment.IsDistributed)
        {
            // A process lists the outboxes of the modules it hosts: the Scheduler's process has no Identity outbox.
            using var scheduler = OidcClient.Api(cloud.SchedulerUrl, admin.AccessToken);
            Assert.Null(Find(await ListAsync(scheduler), messageId));
            await ProblemAssert.ExpectAsync(scheduler.GetAsync($"messaging/v1/dead-letters/{id}"), 404, "dead_letter_not_found");
        }

        using (var replay = await api.PostAsync($"messaging/v1/dead-letters/{id}/replay", null))
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        // The relay took the row again (a second attempt) and, its type still being gone, set it aside again.
        await Eventually.TrueAsync(async () => await OutboxRow.ReadAsync(cloud, "identity", sequence) is { Attempts: 2, FailedAt: not null },
            $"the relay retrying {id}", TimeSpan.FromSeconds(30));

        using (var discard = await api.DeleteAsync($"messaging/v1/dead-letters/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, discard.StatusCode);
        Assert.Null(await OutboxRow.ReadAsync(cloud, "identity", sequence));
        Assert.Null(Find(await ListAsync(api), messageId));
        await ProblemAssert.ExpectAsync(api.PostAsync($"messaging/v1/dead-letters/{id}/replay", null), 404, "dead_letter_not_found");
        await ProblemAssert.ExpectAsync(api.GetAsync("messaging/v1/dead-letters/outbox:identity:nonsense"), 404, "dead_letter_not_found");
        await ProblemAssert.ExpectAsync(api.GetAsync("messaging/v1/dead-letters/queue:nothing_error:1"), 404, "dead_letter_not_found");
    }

    [Fact]
    public async Task The_cli_lists_replays_and_discards_what_the_api_shows()
    {
        var cloud = fixture.Cloud;
        var (messageId, sequence) = await OutboxRow.InsertAsync(cloud, "identity", "CloudPortal.Contracts.Gone.ForTheCli, CloudPortal.Contracts", "{}");
        var id = $"outbox:identity:{sequence}";
        await Eventually.TrueAsync(async () => await OutboxRow.ReadAsync(cloud, "identity", sequence) is { FailedAt: not null }, $"the relay setting {id} aside");
        // The CLI reads the databases this configuration names (all-in-one: the data directory; distributed: PostgreSQL and RabbitMQ).
        string[] where = ["--data-dir", cloud.Deployment.IsDistributed ? cloud.Deployment.NewDirectory() : cloud.Deployment.DataDir];

        var listed = await CloudPortalProcess.RunAsync(["admin", "dead-letters", .. where], cloud.Environment());
        Assert.True(listed.ExitCode == 0, listed.Output);
        Assert.Contains(id, listed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(messageId.ToString(), listed.StandardOutput, StringComparison.Ordinal);

        var replayed = await CloudPortalProcess.RunAsync(["admin", "dead-letters", "replay", id, .. where], cloud.Environment());
        Assert.True(replayed.ExitCode == 0, replayed.Output);
        Assert.Contains($"replayed {id}", replayed.StandardOutput, StringComparison.Ordinal);
        await Eventually.TrueAsync(async () => await OutboxRow.ReadAsync(cloud, "identity", sequence) is { Attempts: 2, FailedAt: not null },
            $"the server's relay retrying {id}", TimeSpan.FromSeconds(30));

        var discarded = await CloudPortalProcess.RunAsync(["admin", "dead-letters", "discard", id, .. where], cloud.Environment());
        Assert.True(discarded.ExitCode == 0, discarded.Output);
        Assert.Null(await OutboxRow.ReadAsync(cloud, "identity", sequence));
        var again = await CloudPortalProcess.RunAsync(["admin", "dead-letters", "discard", id, .. where], cloud.Environment());
        Assert.Equal(2, again.ExitCode);
        Assert.Contains($"no dead letter '{id}'", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_cloud_admins_see_or_touch_dead_letters()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        await ProblemAssert.ExpectAsync(admin.GetAsync("messaging/v1/dead-letters?limit=0"), 400, "invalid_limit");
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("messaging/v1/dead-letters")).StatusCode);

        using var projectAdmin = OidcClient.Api(cloud.IdentityUrl, tenants.Token("adminA"), tenants.ProjectA);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.GetAsync("messaging/v1/dead-letters")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.GetAsync("messaging/v1/dead-letters/outbox:identity:1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.PostAsync("messaging/v1/dead-letters/outbox:identity:1/replay", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectAdmin.DeleteAsync("messaging/v1/dead-letters/outbox:identity:1")).StatusCode);
        using var anonymous = OidcClient.Api(cloud.IdentityUrl, null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("messaging/v1/dead-letters")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("messaging/v1/dead-letters/outbox:identity:1")).StatusCode);
    }

    private static async Task<List<JsonElement>> ListAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<JsonElement>("messaging/v1/dead-letters?limit=1000")).GetProperty("deadLetters").EnumerateArray().ToList();

    private static JsonElement? Find(List<JsonElement> all, Guid messageId) =>
        all.Cast<JsonElement?>().FirstOrDefault(e => e!.Value.GetProperty("messageId").ValueKind == JsonValueKind.String && e.Value.GetProperty("messageId").GetGuid() == messageId);

    private static async Task<JsonElement> WaitForAsync(HttpClient api, string what, Func<List<JsonElement>, JsonElement?> pick)
    {
        JsonElement? found = null;
        var last = new List<JsonElement>();
        await Eventually.TrueAsync(async () => (found = pick(last = await ListAsync(api))) is not null, what, TimeSpan.FromSeconds(90),
            () => string.Join("; ", last.Select(e => e.GetProperty("id").GetString())));
        return found!.Value;
    }
}

public sealed class AllInOneDeadLetterTests(AllInOneDeadLetterCloud cloud) : DeadLetterTests(cloud), IClassFixture<AllInOneDeadLetterCloud>;

public sealed class DistributedDeadLetterTests(DistributedDeadLetterCloud cloud) : DeadLetterTests(cloud), IClassFixture<DistributedDeadLetterCloud>;

public abstract class DeadLetterCloud(string mode) : IAsyncLifetime
{
    public TestCloud Cloud { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Cloud = await TestCloud.StartAsync(mode);

    public async ValueTask DisposeAsync()
    {
        if (Cloud is not null)
            await Cloud.DisposeAsync();
    }
}

public sealed class AllInOneDeadLetterCloud() : DeadLetterCloud("all-in-one");

public sealed class DistributedDeadLetterCloud() : DeadLetterCloud("distributed");
