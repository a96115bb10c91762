using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;

namespace CloudPortal.Host.Commands;

/// <summary>
/// <c>admin node-register</c> and <c>node-unregister</c>: a compute node's own RabbitMQ user (ADR 0015), made through
/// RabbitMQ's management API with the control plane's bus user. The password is printed once and kept nowhere.
/// </summary>
internal static class NodeCommands
{
    /// <param name="busFile">Where to write the node's bus URI (mode 0600, for a secret mount) instead of printing it.</param>
    public static async Task RegisterAsync(HostSettings settings, string host, bool rotate, string? busFile, TextWriter output, CancellationToken cancellationToken)
    {
        var (bus, api) = Connect(settings);
        using var _ = api;
        var virtualHost = RabbitMqAddress.VirtualHost(bus);
        var user = NodeIdentity.UserName(virtualHost, host);
        var controlPlane = RabbitMqAddress.UserName(bus);
        if (!(await api.TagsAsync(controlPlane, cancellationToken)).Contains("impersonator"))
            throw new StartupException($"the control plane's RabbitMQ user '{controlPlane}' needs the impersonator tag, or a node's report that fails can never reach its error queue: rabbitmqctl set_user_tags {controlPlane} administrator impersonator");
        var exists = await api.UserExistsAsync(user, cancellationToken);
        if (exists && !rotate)
            throw new StartupException($"node '{host}' is registered already (RabbitMQ user '{user}'); add --rotate to give it a new password (the old one stops working)");

        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        await api.PutAsync($"api/users/{Escape(user)}", new { password, tags = "" }, cancellationToken);
        var permissions = NodeIdentity.Permissions(host);
        await api.PutAsync($"api/permissions/{Escape(virtualHost)}/{Escape(user)}",
            new { configure = permissions.Configure, write = permissions.Write, read = permissions.Read }, cancellationToken);
        if (exists)
            await api.CloseConnectionsAsync(user, cancellationToken);

        var node = new UriBuilder(bus) { UserName = Uri.EscapeDataString(user), Password = Uri.EscapeDataString(password) }.Uri;
        await output.WriteLineAsync($"{(exists ? "new password for" : "registered")} node {host}: RabbitMQ user {user} in virtual host {virtualHost}");
        if (busFile is not null)
        {
            await File.WriteAllTextAsync(busFile, "", cancellationToken);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(busFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await File.WriteAllTextAsync(busFile, node.ToString(), cancellationToken);
            await output.WriteLineAsync($"it may use its own queue and publish its reports, nothing else; its bus setting (with the password) is in {busFile}");
            return;
        }
        await output.WriteLineAsync("it may use its own queue and publish its reports, nothing else; the password is shown once, so give the node this setting now:");
        await output.WriteLineAsync($"CloudPortal__Bus__RabbitMq={node}");
    }

    public static async Task UnregisterAsync(HostSettings settings, string host, TextWriter output, CancellationToken cancellationToken)
    {
        var (bus, api) = Connect(settings);
        using var _ = api;
        var user = NodeIdentity.UserName(RabbitMqAddress.VirtualHost(bus), host);
        if (!await api.UserExistsAsync(user, cancellationToken))
            throw new StartupException($"node '{host}' is not registered (no RabbitMQ user '{user}')");
        // RabbitMQ closes the user's connections with it: the node is cut off at once.
        await api.DeleteAsync($"api/users/{Escape(user)}", cancellationToken);
        await output.WriteLineAsync($"unregistered node {host}: RabbitMQ user {user} deleted, its connections closed");
    }

    private static (Uri Bus, ManagementApi Api) Connect(HostSettings settings)
    {
        var builder = CloudPortalApp.CreateBuilder("admin", settings.ConfigFile, settings.Overrides);
        var options = builder.Configuration.GetCloudPortalOptions().Bus;
        if (!options.UsesRabbitMq)
            throw new StartupException("nodes register with RabbitMQ: set CloudPortal:Bus:RabbitMq to the control plane's bus (all-in-one's own agent needs no registration)");
        var bus = RabbitMqAddress.Parse(options.RabbitMq!);
        return (bus, new ManagementApi(RabbitMqAddress.Management(options, bus), RabbitMqAddress.UserName(bus), RabbitMqAddress.Password(bus)));
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    /// <summary>The few calls of RabbitMQ's management HTTP API these commands make, with operator-readable failures.</summary>
    private sealed class ManagementApi : IDisposable
    {
        private readonly HttpClient _http;

        public ManagementApi(Uri baseAddress, string user, string password)
        {
            _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        public async Task<bool> UserExistsAsync(string user, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(() => _http.GetAsync($"api/users/{Escape(user)}", cancellationToken));
            return response.StatusCode != HttpStatusCode.NotFound && await EnsureAsync(response);
        }

        public async Task<IReadOnlyList<string>> TagsAsync(string user, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(() => _http.GetAsync($"api/users/{Escape(user)}", cancellationToken));
            await EnsureAsync(response);
            var tags = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(cancellationToken)).GetProperty("tags");
            // An array since RabbitMQ 3.9, a comma-separated string before.
            return tags.ValueKind == System.Text.Json.JsonValueKind.Array
                ? tags.EnumerateArray().Select(t => t.GetString() ?? "").ToList()
                : (tags.GetString() ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        }

        public async Task PutAsync(string path, object body, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(() => _http.PutAsJsonAsync(path, body, cancellationToken));
            await EnsureAsync(response);
        }

        public async Task DeleteAsync(string path, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(() => _http.DeleteAsync(path, cancellationToken));
            await EnsureAsync(response);
        }

        /// <summary>A rotated password does not end a session opened with the old one: close them, the node reconnects with the new.</summary>
        public async Task CloseConnectionsAsync(string user, CancellationToken cancellationToken)
        {
            using var response = await SendAsync(() => _http.DeleteAsync($"api/connections/username/{Escape(user)}", cancellationToken));
            if (response.StatusCode != HttpStatusCode.NotFound)
                await EnsureAsync(response);
        }

        public void Dispose() => _http.Dispose();

        private async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send)
        {
            try
            {
                return await send();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                throw new StartupException($"RabbitMQ's management API at {_http.BaseAddress} is unreachable ({ex.Message}); enable the rabbitmq_management plugin or set CloudPortal:Bus:RabbitMqManagement", ex);
            }
        }

        private async Task<bool> EnsureAsync(HttpResponseMessage response)
        {
            if (response.IsSuccessStatusCode)
                return true;
            var detail = await response.Content.ReadAsStringAsync();
            throw new StartupException(response.StatusCode == HttpStatusCode.Unauthorized
                ? $"RabbitMQ's management API at {_http.BaseAddress} refused the bus user: registering nodes needs a user tagged administrator"
                : $"RabbitMQ's management API answered {(int)response.StatusCode} {response.ReasonPhrase} for {response.RequestMessage?.RequestUri?.AbsolutePath}: {detail}");
        }
    }
}
