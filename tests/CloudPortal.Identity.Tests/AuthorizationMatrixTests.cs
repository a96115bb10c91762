using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// Every Identity endpoint against every kind of caller, with the exact status: anonymous → 401; anyone outside
/// project A asking about it (B's member, A's admin aimed at B) → 404, as if it did not exist; a role too low inside
/// the project, or a cloud-admin endpoint → 403; the roles the endpoint allows get through.
/// </summary>
public sealed class AuthorizationMatrixTests
{
    private sealed record Case(string Method, string Path, object? Body, string[] Allowed);

    private const string Anonymous = "anonymous";

    // Callers: readerA, memberA, adminA act in project A; memberB belongs to B only; adminA→B is A's admin aimed at B.
    private static readonly string[] Everyone = ["readerA", "memberA", "adminA", "memberB"];

    private static IEnumerable<Case> Cases(Tenants t)
    {
        var a = t.ProjectA;
        var target = t.Id("target");
        return
        [
            new("GET", "identity/v1/projects", null, Everyone),
            new("POST", "identity/v1/projects", new { name = "never" }, []),
            new("GET", $"identity/v1/projects/{a}", null, ["readerA", "memberA", "adminA"]),
            new("PATCH", $"identity/v1/projects/{a}", new { description = "x" }, []),
            new("DELETE", $"identity/v1/projects/{a}", null, []),
            new("GET", $"identity/v1/projects/{a}/members", null, ["readerA", "memberA", "adminA"]),
            new("PUT", $"identity/v1/projects/{a}/members/{target}", new { role = "reader" }, ["adminA"]),
            new("DELETE", $"identity/v1/projects/{a}/members/{target}", null, ["adminA"]),
            new("GET", "identity/v1/users", null, []),
            new("POST", "identity/v1/users", new { userName = "never", password = "a long enough password" }, []),
            new("GET", $"identity/v1/users/{target}", null, []),
            new("DELETE", $"identity/v1/users/{target}", null, []),
            new("POST", $"identity/v1/users/{target}/unlock", null, []),
            new("POST", $"identity/v1/users/{target}/disable", null, []),
            new("POST", $"identity/v1/users/{target}/password", new { newPassword = "never the new password" }, []),
            new("GET", "identity/v1/users/me", null, Everyone),
            new("GET", $"identity/v1/projects/{a}/quota", null, ["readerA", "memberA", "adminA"]),
            new("PUT", $"identity/v1/projects/{a}/quota/instances", new { limit = 99 }, []),
            new("DELETE", $"identity/v1/projects/{a}/quota/instances", null, []),
            new("GET", "identity/v1/quota-defaults", null, Everyone),
            new("PUT", "identity/v1/quota-defaults/instances", new { limit = 99 }, []),
            new("GET", $"identity/v1/projects/{a}/access-keys", null, ["readerA", "memberA", "adminA"]),
            new("POST", $"identity/v1/projects/{a}/access-keys", null, ["memberA", "adminA"]),
            new("GET", "identity/v1/audit", null, []),
            new("GET", $"identity/v1/projects/{a}/audit", null, ["adminA"]),
        ];
    }

    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task Every_identity_endpoint_admits_exactly_the_callers_it_should(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        var failures = new List<string>();

        foreach (var c in Cases(tenants))
        {
            foreach (var caller in Everyone.Prepend(Anonymous))
            {
                var status = await SendAsync(cloud, tenants, caller, c.Method, c.Path, c.Body, tenants.ProjectA);
                var allowed = c.Allowed.Contains(caller);
                var aboutA = c.Path.Contains(tenants.ProjectA.ToString(), StringComparison.Ordinal);
                var expected = caller == Anonymous ? "401" : allowed ? "2xx" : aboutA && caller == "memberB" ? "404" : "403";
                var ok = expected == "2xx" ? (int)status is >= 200 and < 300 : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) == expected;
                if (!ok)
                    failures.Add($"{caller} {c.Method} {c.Path} → {(int)status} (expected {expected})");
            }

            // Project A's admin aimed at project B, where they hold no role: it does not exist for them.
            if (c.Path.Contains(tenants.ProjectA.ToString(), StringComparison.Ordinal))
            {
                var inB = c.Path.Replace(tenants.ProjectA.ToString(), tenants.ProjectB.ToString(), StringComparison.Ordinal);
                var status = await SendAsync(cloud, tenants, "adminA", c.Method, inB, c.Body, tenants.ProjectB);
                if (status != HttpStatusCode.NotFound)
                    failures.Add($"adminA {c.Method} {inB} (project B) → {(int)status} (expected 404)");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Listing_projects_shows_each_caller_only_their_own()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);

        using var reader = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        var seen = (await reader.GetFromJsonAsync<JsonElement>("identity/v1/projects")).GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([tenants.ProjectA], seen);

        using var other = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberB"));
        var seenByB = (await other.GetFromJsonAsync<JsonElement>("identity/v1/projects")).GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([tenants.ProjectB], seenByB);

        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var all = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/projects?limit=1000")).GetProperty("projects").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()).ToList();
        Assert.Contains(tenants.ProjectA, all);
        Assert.Contains(tenants.ProjectB, all);
    }

    private static async Task<HttpStatusCode> SendAsync(TestCloud cloud, Tenants tenants, string caller, string method, string path, object? body, Guid project)
    {
        using var api = OidcClient.Api(cloud.IdentityUrl, caller == Anonymous ? null : tenants.Token(caller), project);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        else if (method is "POST" or "PUT" or "PATCH")
            request.Content = JsonContent.Create(new { });
        using var response = await api.SendAsync(request);
        return response.StatusCode;
    }
}
