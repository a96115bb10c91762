using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CloudPortal.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit;

namespace CloudPortal.Compute.Tests.Nodes;

/// <summary>
/// A compute node's own credentials (ADR 0015): the fixture's agent runs as the RabbitMQ user <c>admin node-register</c>
/// made for it, and that user can do what a node needs and nothing else. The probes below connect as a second registered
/// node, <c>spy</c>, which has no agent.
/// </summary>
public sealed class NodeCredentialsTests(SimulatedDistributed fixture) : IClassFixture<SimulatedDistributed>
{
    private TestCloud Cloud => fixture.Cloud;

    [Fact]
    public async Task The_agent_runs_as_its_own_user_and_launches_with_the_image_fetched_through_the_spawn_URL()
    {
        var users = await ConnectedUsersAsync();
        Assert.Contains($"{Cloud.Deployment.RabbitMq!.VirtualHost}.compute-agent.{Cloud.Node}", users);

        using var member = new ComputeClient(Cloud, fixture.Tenants.Token("memberA"), fixture.Tenants.ProjectA);
        var id = await member.LaunchOneAsync(fixture.PublicImage, name: "own-credentials");
        var active = await member.WaitForStatusAsync(id, "active");
        Assert.Equal("running", active.GetProperty("powerState").GetString());
        await member.DeleteAsync(id);
        await member.WaitForStatusAsync(id, "deleted");
    }

    [Fact]
    public async Task A_node_cannot_read_another_nodes_queue()
    {
        await using var spy = await ConnectAsync(await Cloud.NodeBusUriAsync("spy"));
        await using var channel = await spy.CreateChannelAsync();
        var refused = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.BasicGetAsync($"compute-agent.{Cloud.Node}", autoAck: false));
        Assert.Equal((ushort?)403, refused.ShutdownReason?.ReplyCode);
    }

    [Theory]
    [InlineData("compute-agent.{node}")]                          // a command to another node
    [InlineData("CloudPortal.Contracts.Identity:QuotaUsageReported")]   // a usage event
    [InlineData("CloudPortal.Contracts.Identity:ProjectQuotaChanged")]  // a quota change
    [InlineData("instance-commands")]                                // Compute's own queue
    public async Task A_node_cannot_publish_anywhere_but_its_reports(string exchange)
    {
        await using var spy = await ConnectAsync(await Cloud.NodeBusUriAsync("spy"));
        await using var channel = await spy.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var target = exchange.Replace("{node}", Cloud.Node, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await channel.BasicPublishAsync(target, "", mandatory: false, new BasicProperties(), Encoding.UTF8.GetBytes("{}")));
        Assert.Equal((ushort?)403, channel.CloseReason?.ReplyCode);
    }

    [Fact]
    public async Task A_node_cannot_claim_to_be_another_node_in_the_messages_user_id()
    {
        await using var spy = await ConnectAsync(await Cloud.NodeBusUriAsync("spy"));
        await using var channel = await spy.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties { UserId = $"{Cloud.Deployment.RabbitMq!.VirtualHost}.compute-agent.{Cloud.Node}", ContentType = "application/vnd.masstransit+json" };
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await channel.BasicPublishAsync(ReportExchange, "", mandatory: false, properties, Report(Cloud.Node, vCpus: 999)));
        // RabbitMQ itself refuses a user_id that is not the connection's user.
        Assert.Equal((ushort?)406, channel.CloseReason?.ReplyCode);
    }

    [Fact]
    public async Task A_report_a_node_publishes_for_another_node_is_refused_and_set_aside()
    {
        var before = (await Admin.HostAsync(Cloud, fixture.Tenants.AdminToken, Cloud.Node)).GetProperty("host").GetProperty("vCpus").GetInt32();
        await using var admin = await ConnectAsync(Cloud.Deployment.RabbitMq!.Uri());
        var errorsBefore = await ErrorCountAsync(admin);

        // The spy may publish node reports (its user may write to that exchange), stamped with its own user as RabbitMQ demands.
        await using var spy = await ConnectAsync(await Cloud.NodeBusUriAsync("spy"));
        await using var channel = await spy.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties
        {
            UserId = $"{Cloud.Deployment.RabbitMq!.VirtualHost}.compute-agent.spy",
            ContentType = "application/vnd.masstransit+json",
            MessageId = Guid.NewGuid().ToString(),
            Persistent = true,
        };
        await channel.BasicPublishAsync(ReportExchange, "", mandatory: false, properties, Report(Cloud.Node, vCpus: 999));

        // The Scheduler handled it: it is in the consumer's error queue, where admins see refused messages.
        await Eventually.TrueAsync(async () => await ErrorCountAsync(admin) > errorsBefore, "the forged report set aside in compute-node-reported_error", TimeSpan.FromSeconds(60),
            () => Cloud.SchedulerProcess.Output[^Math.Min(6000, Cloud.SchedulerProcess.Output.Length)..]);
        var host = (await Admin.HostAsync(Cloud, fixture.Tenants.AdminToken, Cloud.Node)).GetProperty("host");
        Assert.Equal(before, host.GetProperty("vCpus").GetInt32());
        Assert.Contains($"Refused a ComputeNodeReported for node {Cloud.Node} from RabbitMQ user {properties.UserId}", Cloud.SchedulerProcess.Output, StringComparison.Ordinal);

        // Admins see it among the dead letters, with why (and replaying it would only refuse it again: it keeps its user_id).
        using var scheduler = OidcClient.Api(Cloud.SchedulerUrl, fixture.Tenants.AdminToken);
        var letters = (await scheduler.GetFromJsonAsync<JsonElement>("messaging/v1/dead-letters?limit=1000")).GetProperty("deadLetters").EnumerateArray();
        var letter = Assert.Single(letters, l => l.GetProperty("messageId").GetString() == properties.MessageId);
        Assert.Equal("queue:compute-node-reported_error", letter.GetProperty("source").GetString());
        Assert.Contains("ForgedNodeReportException", letter.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_nodes_credentials_open_no_HTTP_API()
    {
        var uri = new Uri(await Cloud.NodeBusUriAsync("spy"));
        var (user, password) = (Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]), Uri.UnescapeDataString(uri.UserInfo.Split(':')[1]));
        using var http = new HttpClient();

        // Not an OIDC client: no token for it.
        using var token = await http.PostAsync($"{Cloud.IdentityUrl}/identity/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = user, ["client_secret"] = password, ["scope"] = "cloudportal",
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        Assert.Equal("invalid_client", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());

        // And no way to the image bytes but the spawn's expiring URL.
        using var download = new HttpRequestMessage(HttpMethod.Get, $"{Cloud.ImagesUrl}/images/v2/images/{fixture.PublicImage}/file");
        download.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        using var refused = await http.SendAsync(download);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static readonly string[] ReportTypes = ["urn:message:CloudPortal.Contracts.Scheduler:ComputeNodeReported"];

    private const string ReportExchange = "CloudPortal.Contracts.Scheduler:ComputeNodeReported";

    /// <summary>A MassTransit envelope of a ComputeNodeReported newer than any real one, so the Scheduler would apply it.</summary>
    private static byte[] Report(string host, int vCpus) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = Guid.NewGuid(),
        messageType = ReportTypes,
        message = new
        {
            host, vCpus, memoryMb = 4096, diskGb = 100, hypervisorType = "TEST", hypervisorVersion = "0.0.2", cpuModel = (string?)null,
            capacitySource = "libvirt", simulated = true, reportedAt = DateTimeOffset.UtcNow.AddHours(1),
        },
    });

    /// <summary>Messages in the Scheduler's error queue for node reports; 0 before MassTransit made it (on the first error).</summary>
    private static async Task<uint> ErrorCountAsync(IConnection connection)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return await channel.MessageCountAsync("compute-node-reported_error");
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    private static Task<IConnection> ConnectAsync(string uri) => new ConnectionFactory { Uri = new Uri(uri) }.CreateConnectionAsync();

    private async Task<IReadOnlyList<string>> ConnectedUsersAsync()
    {
        using var api = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestEnvironment.RabbitMqUser}:{TestEnvironment.RabbitMqPassword}")));
        var connections = await api.GetFromJsonAsync<JsonElement>($"api/vhosts/{Cloud.Deployment.RabbitMq!.VirtualHost}/connections");
        return connections.EnumerateArray().Select(c => c.GetProperty("user").GetString()!).ToList();
    }
}
