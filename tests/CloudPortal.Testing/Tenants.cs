using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace CloudPortal.Testing;

/// <summary>Two projects and a user per role, made through the admin API and signed in through PKCE.</summary>
public sealed class Tenants
{
    public const string Password = "correct horse battery staple";

    public required Guid ProjectA { get; init; }

    public required Guid ProjectB { get; init; }

    public required Dictionary<string, (Guid Id, string Token)> Users { get; init; }

    public required string AdminToken { get; init; }

    /// <summary>Makes the user names unique per cloud: <c>readerA-{Suffix}</c>.</summary>
    public required string Suffix { get; init; }

    public string UserName(string user) => $"{user}-{Suffix}";

    public Guid Id(string user) => Users[user].Id;

    public string Token(string user) => Users[user].Token;

    /// <summary>readerA, memberA, adminA in project A; memberB in project B; target (no role) to be assigned.</summary>
    public static async Task<Tenants> CreateAsync(TestCloud cloud)
    {
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.IdentityUrl, admin.AccessToken);
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var a = await CreateAsync<JsonElement>(api, "identity/v1/projects", new { name = $"alpha-{suffix}" });
        var b = await CreateAsync<JsonElement>(api, "identity/v1/projects", new { name = $"beta-{suffix}" });
        var projectA = a.GetProperty("id").GetGuid();
        var projectB = b.GetProperty("id").GetGuid();

        var users = new Dictionary<string, (Guid, string)>();
        foreach (var (name, project, role) in new[]
        {
            ("readerA", (Guid?)projectA, "reader"), ("memberA", projectA, "member"), ("adminA", projectA, "admin"),
            ("memberB", projectB, "member"), ("target", null, null),
        })
        {
            var user = await CreateAsync<JsonElement>(api, "identity/v1/users", new { userName = $"{name}-{suffix}", password = Password });
            var id = user.GetProperty("id").GetGuid();
            if (project is { } p)
                (await api.PutAsJsonAsync($"identity/v1/projects/{p}/members/{id}", new { role })).EnsureSuccessStatusCode();
            var token = (await cloud.Oidc.SignInAsync($"{name}-{suffix}", Password)).AccessToken;
            users[name] = (id, token);
        }
        return new Tenants { ProjectA = projectA, ProjectB = projectB, Users = users, AdminToken = admin.AccessToken, Suffix = suffix };
    }

    private static async Task<T> CreateAsync<T>(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }
}
