using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Identity.Tests;

public sealed class OidcFlowTests
{
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Authorization_code_with_PKCE_issues_tokens_another_module_accepts(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);

        var tokens = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        Assert.NotNull(tokens.RefreshToken);
        Assert.NotNull(tokens.IdToken);

        // The Scheduler (another module; in distributed mode another process validating over HTTP) accepts it.
        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, tokens.AccessToken);
        var hosts = await WaitForNodeAsync(scheduler, cloud.Node);
        Assert.Contains(cloud.Node, hosts, StringComparison.Ordinal);

        // A refresh token gets a new access token that works too.
        var refreshed = await cloud.Oidc.RefreshAsync(tokens.RefreshToken!);
        Assert.NotEqual(tokens.AccessToken, refreshed.AccessToken);
        using var again = OidcClient.Api(cloud.SchedulerUrl, refreshed.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("scheduler/v1/hosts")).StatusCode);

        // No token, a tampered token: 401.
        using var anonymous = OidcClient.Api(cloud.SchedulerUrl, null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("scheduler/v1/hosts")).StatusCode);
        using var tampered = OidcClient.Api(cloud.SchedulerUrl, tokens.AccessToken[..^4] + "AAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await tampered.GetAsync("scheduler/v1/hosts")).StatusCode);
    }

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Client_credentials_token_reaches_service_endpoints_and_nothing_for_users(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);

        var tokens = await cloud.Oidc.ClientCredentialsAsync(cloud.ServiceSecret);
        Assert.Null(tokens.RefreshToken);

        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, tokens.AccessToken);
        Assert.Contains(cloud.Node, await WaitForNodeAsync(scheduler, cloud.Node), StringComparison.Ordinal);
        using var identity = OidcClient.Api(cloud.IdentityUrl, tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Forbidden, (await identity.GetAsync("identity/v1/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await identity.GetAsync("identity/v1/users/me")).StatusCode);

        var wrong = await Assert.ThrowsAsync<HttpRequestException>(() => cloud.Oidc.ClientCredentialsAsync("not-the-secret"));
        Assert.Contains("invalid_client", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plain_user_token_is_refused_by_admin_endpoints_of_another_module()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);

        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.Token("adminA"));
        Assert.Equal(HttpStatusCode.Forbidden, (await scheduler.GetAsync("scheduler/v1/hosts")).StatusCode);
    }

    [Fact]
    public async Task Discovery_document_describes_the_endpoints_and_keys()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        using var http = OidcClient.Api(cloud.IdentityUrl, null);

        var discovery = await http.GetFromJsonAsync<JsonElement>(".well-known/openid-configuration");

        Assert.Equal($"{cloud.IdentityUrl}/", discovery.GetProperty("issuer").GetString());
        Assert.Equal($"{cloud.IdentityUrl}/identity/connect/authorize", discovery.GetProperty("authorization_endpoint").GetString());
        Assert.Equal($"{cloud.IdentityUrl}/identity/connect/token", discovery.GetProperty("token_endpoint").GetString());
        Assert.Equal(["S256"], discovery.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        var grants = discovery.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("authorization_code", grants);
        Assert.Contains("client_credentials", grants);
        Assert.Contains("refresh_token", grants);
        Assert.DoesNotContain("password", grants);
        var jwks = await http.GetFromJsonAsync<JsonElement>(new Uri(discovery.GetProperty("jwks_uri").GetString()!));
        Assert.Equal("RSA", jwks.GetProperty("keys")[0].GetProperty("kty").GetString());
    }

    [Fact]
    public async Task Only_an_S256_code_challenge_is_accepted()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");

        using var accepted = await cloud.Oidc.AuthorizeAsync("S256");
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.Contains("/identity/account/login", accepted.Headers.Location!.ToString(), StringComparison.OrdinalIgnoreCase);

        // plain, or no method at all (which means plain): refused on the spot, never a login page, so never a code.
        foreach (var method in new[] { "plain", null })
        {
            using var refused = await cloud.Oidc.AuthorizeAsync(method);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, $"{method ?? "no method"}: {(int)refused.StatusCode} {refused.Headers.Location} {body}");
            Assert.Contains("invalid_request", body, StringComparison.Ordinal);
            Assert.Null(refused.Headers.Location);
        }
    }

    [Fact]
    public async Task Tokens_stay_valid_across_a_restart_because_the_signing_keys_persist()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var before = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        var keyFile = Path.Combine(cloud.Deployment.DataDir, "identity-keys", "signing-key.pem");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        await cloud.RestartIdentityAsync();

        using var api = OidcClient.Api(cloud.SchedulerUrl, before.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("scheduler/v1/hosts")).StatusCode);
        var refreshed = await cloud.Oidc.RefreshAsync(before.RefreshToken!);
        Assert.False(string.IsNullOrEmpty(refreshed.AccessToken));
    }

    internal static async Task<string> WaitForNodeAsync(HttpClient scheduler, string node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await scheduler.GetAsync("scheduler/v1/hosts");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET scheduler/v1/hosts: {(int)response.StatusCode} {body} {response.Headers.WwwAuthenticate}");
            if (body.Contains(node, StringComparison.Ordinal) || DateTime.UtcNow > deadline)
                return body;
            await Task.Delay(500);
        }
    }
}
