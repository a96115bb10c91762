using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace CloudPortal.Testing;

/// <summary>
/// A RabbitMQ virtual host of its own for one test, so parallel tests never consume each other's
/// messages from same-named queues. Deleted (with its queues) on dispose.
/// </summary>
public sealed class TestRabbitMq : IAsyncDisposable
{
    private readonly HttpClient _api;

    private TestRabbitMq(HttpClient api, string virtualHost)
    {
        _api = api;
        VirtualHost = virtualHost;
    }

    public string VirtualHost { get; }

    /// <summary>The amqp:// URI for <c>CloudPortal:Bus:RabbitMq</c>, optionally through another port (a <see cref="TcpProxy"/>).</summary>
    public string Uri(int? port = null) =>
        $"amqp://{TestEnvironment.RabbitMqUser}:{TestEnvironment.RabbitMqPassword}@{TestEnvironment.RabbitMqHost}:{port ?? TestEnvironment.RabbitMqPort}/{VirtualHost}";

    public static async Task<TestRabbitMq> CreateAsync()
    {
        var api = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement, Timeout = TimeSpan.FromSeconds(15) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestEnvironment.RabbitMqUser}:{TestEnvironment.RabbitMqPassword}")));
        var virtualHost = $"cp-test-{Guid.NewGuid():N}";
        try
        {
            (await api.PutAsJsonAsync($"api/vhosts/{virtualHost}", new { description = "CloudPortal test" })).EnsureSuccessStatusCode();
            (await api.PutAsJsonAsync($"api/permissions/{virtualHost}/{TestEnvironment.RabbitMqUser}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        }
        catch (HttpRequestException ex)
        {
            api.Dispose();
            TestEnvironment.Unavailable("RabbitMQ (with the management plugin)", ex.Message);
        }
        return new TestRabbitMq(api, virtualHost);
    }

    /// <summary>Drops every message waiting in a queue of this virtual host (what a broker that lost them leaves behind).</summary>
    public async Task PurgeQueueAsync(string queue)
    {
        using var response = await _api.DeleteAsync($"api/queues/{VirtualHost}/{System.Uri.EscapeDataString(queue)}/contents");
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The queue's type as the broker reports it: <c>classic</c> or <c>quorum</c>.</summary>
    public async Task<string?> QueueTypeAsync(string queue)
    {
        var info = await _api.GetFromJsonAsync<System.Text.Json.JsonElement>($"api/queues/{VirtualHost}/{System.Uri.EscapeDataString(queue)}");
        return info.GetProperty("type").GetString();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _api.DeleteAsync($"api/vhosts/{VirtualHost}");
            // Users are the broker's: the nodes registered for this virtual host (NodeIdentity names them after it) go too.
            var users = await _api.GetFromJsonAsync<System.Text.Json.JsonElement>("api/users");
            foreach (var user in users.EnumerateArray().Select(u => u.GetProperty("name").GetString()!).Where(u => u.StartsWith(VirtualHost + ".", StringComparison.Ordinal)))
                await _api.DeleteAsync($"api/users/{System.Uri.EscapeDataString(user)}");
        }
        finally
        {
            _api.Dispose();
        }
    }
}
