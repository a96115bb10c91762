using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Api;

/// <summary>
/// Every Compute endpoint × every kind of caller, with the exact status: anonymous; reader, member and admin of project
/// A; a member of B; A's admin naming project B; a cloud admin naming no project. A resource of project A is a 404 to
/// anyone outside A (never a 403); a 403 is only ever about the caller's own role. The route list comes from the
/// server itself (<c>cloudportal admin routes</c>), so an endpoint added without a row here fails this test.
/// </summary>
[Collection(SimulatedAllInOneCollection.Name)]
public sealed class AuthorizationMatrixTests(SimulatedAllInOne fixture)
{
    private static readonly string[] Callers = ["anonymous", "readerA", "memberA", "adminA", "memberB", "adminA-in-B", "cloudAdmin"];

    /// <summary>One endpoint: how to call it (a fresh target per call where a success consumes it) and what each caller gets.</summary>
    private sealed record Row(string Method, string Route, Func<Task<string>> Path, Func<object?>? Body, params int[] Expected);

    [Fact]
    public async Task Every_compute_endpoint_answers_each_caller_with_exactly_its_status()
    {
        var cloud = fixture.Cloud;
        var tenants = fixture.Tenants;
        using var memberA = new ComputeClient(cloud, tenants.Token("memberA"), tenants.ProjectA);
        using var admin = new ComputeClient(cloud, tenants.AdminToken, null);
        // A fresh instance for every call that consumes one: more than the default ten.
        foreach (var resource in new[] { "instances", "cores" })
            await Admin.SetQuotaAsync(cloud, tenants.AdminToken, tenants.ProjectA, resource, 100, memberA);
        var instanceA = await ActiveInstanceAsync(memberA);
        var keyA = await CreateAsync(memberA, "compute/v1/key-pairs", () => new { name = Unique("key") });
        var groupA = await CreateAsync(memberA, "compute/v1/server-groups", () => new { name = Unique("group"), policy = "anti-affinity" });
        var flavorA = await PrivateFlavorForAAsync(admin);

        Task<string> Fixed(string path) => Task.FromResult(path);
        async Task<string> FreshInstance() => $"compute/v1/instances/{await ActiveInstanceAsync(memberA)}";
        // Statuses in the order of Callers: anonymous, readerA, memberA, adminA, memberB, adminA-in-B, cloudAdmin.
        var rows = new Row[]
        {
            new("GET", "/compute/v1/flavors", () => Fixed("compute/v1/flavors"), null, 401, 200, 200, 200, 200, 403, 200),
            new("POST", "/compute/v1/flavors", () => Fixed("compute/v1/flavors"), () => new { name = Unique("flavor"), vcpus = 1, ramMb = 64, diskGb = 1 }, 401, 403, 403, 403, 403, 403, 201),
            new("GET", "/compute/v1/flavors/{flavor}", () => Fixed($"compute/v1/flavors/{flavorA}"), null, 401, 200, 200, 200, 404, 403, 200),
            new("DELETE", "/compute/v1/flavors/{flavor}", async () => $"compute/v1/flavors/{await PrivateFlavorForAAsync(admin)}", null, 401, 403, 403, 403, 403, 403, 204),
            new("GET", "/compute/v1/flavors/{flavor}/access", () => Fixed($"compute/v1/flavors/{flavorA}/access"), null, 401, 403, 403, 403, 403, 403, 200),
            new("PUT", "/compute/v1/flavors/{flavor}/access/{projectId:guid}", () => Fixed($"compute/v1/flavors/{flavorA}/access/{Guid.NewGuid()}"), null, 401, 403, 403, 403, 403, 403, 204),
            new("DELETE", "/compute/v1/flavors/{flavor}/access/{projectId:guid}", async () => $"compute/v1/flavors/{await PrivateFlavorForAAsync(admin)}/access/{tenants.ProjectA}", null, 401, 403, 403, 403, 403, 403, 204),

            new("GET", "/compute/v1/key-pairs", () => Fixed("compute/v1/key-pairs"), null, 401, 200, 200, 200, 200, 403, 200),
            new("POST", "/compute/v1/key-pairs", () => Fixed("compute/v1/key-pairs"), () => new { name = Unique("key") }, 401, 403, 201, 201, 201, 403, 400),
            new("GET", "/compute/v1/key-pairs/{keyPair}", () => Fixed($"compute/v1/key-pairs/{keyA}"), null, 401, 200, 200, 200, 404, 403, 200),
            new("DELETE", "/compute/v1/key-pairs/{keyPair}", async () => $"compute/v1/key-pairs/{await CreateAsync(memberA, "compute/v1/key-pairs", () => new { name = Unique("key") })}", null, 401, 403, 204, 204, 404, 403, 204),

            new("GET", "/compute/v1/server-groups", () => Fixed("compute/v1/server-groups"), null, 401, 200, 200, 200, 200, 403, 200),
            new("POST", "/compute/v1/server-groups", () => Fixed("compute/v1/server-groups"), () => new { name = Unique("group"), policy = "affinity" }, 401, 403, 201, 201, 201, 403, 400),
            new("GET", "/compute/v1/server-groups/{groupId:guid}", () => Fixed($"compute/v1/server-groups/{groupA}"), null, 401, 200, 200, 200, 404, 403, 200),
            new("DELETE", "/compute/v1/server-groups/{groupId:guid}", async () => $"compute/v1/server-groups/{await CreateAsync(memberA, "compute/v1/server-groups", () => new { name = Unique("group"), policy = "affinity" })}", null, 401, 403, 204, 204, 404, 403, 204),

            new("POST", "/compute/v1/instances", () => Fixed("compute/v1/instances"), () => new { name = "matrix", flavorId = "m1.tiny", imageId = fixture.PublicImage }, 401, 403, 202, 202, 202, 403, 400),
            new("GET", "/compute/v1/instances", () => Fixed("compute/v1/instances"), null, 401, 200, 200, 200, 200, 403, 200),
            new("GET", "/compute/v1/instances/{instanceId:guid}", () => Fixed($"compute/v1/instances/{instanceA}"), null, 401, 200, 200, 200, 404, 403, 200),
            new("POST", "/compute/v1/instances/{instanceId:guid}/actions/{action}", async () => $"{await FreshInstance()}/actions/stop", null, 401, 403, 202, 202, 404, 403, 202),
            new("DELETE", "/compute/v1/instances/{instanceId:guid}", FreshInstance, null, 401, 403, 202, 202, 404, 403, 202),
            new("GET", "/compute/v1/instances/{instanceId:guid}/actions", () => Fixed($"compute/v1/instances/{instanceA}/actions"), null, 401, 200, 200, 200, 404, 403, 200),
            new("GET", "/compute/v1/instances/{instanceId:guid}/user-data", () => Fixed($"compute/v1/instances/{instanceA}/user-data"), null, 401, 200, 200, 200, 404, 403, 200),
            new("PATCH", "/compute/v1/instances/{instanceId:guid}/tags", () => Fixed($"compute/v1/instances/{instanceA}/tags"), () => new Dictionary<string, string?> { ["matrix"] = "x" }, 401, 403, 200, 200, 404, 403, 200),
            new("GET", "/compute/v1/instance-actions", () => Fixed("compute/v1/instance-actions"), null, 401, 200, 200, 200, 200, 403, 200),
            // The simulated hypervisor writes no serial log (an empty one is read) and runs no VNC server (the host says so: 409).
            new("GET", "/compute/v1/instances/{instanceId:guid}/console-log", () => Fixed($"compute/v1/instances/{instanceA}/console-log"), null, 401, 200, 200, 200, 404, 403, 200),
            new("POST", "/compute/v1/instances/{instanceId:guid}/console", () => Fixed($"compute/v1/instances/{instanceA}/console"), null, 401, 403, 409, 409, 404, 403, 409),
            // The websocket proxy takes no token (the ticket is the credential): a plain GET is refused alike for everyone.
            new("GET", "/compute/v1/console/websocket", () => Fixed("compute/v1/console/websocket?token=none"), null, 400, 400, 400, 400, 400, 400, 400),

            new("GET", "/compute/v1/usage", () => Fixed("compute/v1/usage"), null, 401, 200, 200, 200, 200, 403, 200),
            new("GET", "/compute/v1/quota", () => Fixed("compute/v1/quota"), null, 401, 200, 200, 200, 200, 403, 400),
            new("GET", "/compute/v1/stray-domains", () => Fixed("compute/v1/stray-domains"), null, 401, 403, 403, 403, 403, 403, 200),
        };

        await AssertEveryRouteHasARowAsync(cloud, rows);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            for (var c = 0; c < Callers.Length; c++)
            {
                using var http = Client(cloud, tenants, Callers[c]);
                var path = await row.Path();
                using var request = new HttpRequestMessage(new HttpMethod(row.Method), path);
                if (row.Body?.Invoke() is { } body)
                    request.Content = JsonContent.Create(body);
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode != row.Expected[c])
                    failures.Add($"{row.Method} {row.Route} as {Callers[c]}: {(int)response.StatusCode}, expected {row.Expected[c]}: {text}");
                else if (response.StatusCode == HttpStatusCode.NotFound && !JsonDocument.Parse(text).RootElement.GetProperty("code").GetString()!.EndsWith("_not_found", StringComparison.Ordinal))
                    failures.Add($"{row.Method} {row.Route} as {Callers[c]}: 404 without the resource's own code: {text}");
                else if ((int)response.StatusCode >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{row.Method} {row.Route} as {Callers[c]}: {(int)response.StatusCode} is not problem details");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static HttpClient Client(TestCloud cloud, Tenants tenants, string caller) => caller switch
    {
        "anonymous" => OidcClient.Api(cloud.ComputeUrl, null),
        "readerA" => OidcClient.Api(cloud.ComputeUrl, tenants.Token("readerA"), tenants.ProjectA),
        "memberA" => OidcClient.Api(cloud.ComputeUrl, tenants.Token("memberA"), tenants.ProjectA),
        "adminA" => OidcClient.Api(cloud.ComputeUrl, tenants.Token("adminA"), tenants.ProjectA),
        "memberB" => OidcClient.Api(cloud.ComputeUrl, tenants.Token("memberB"), tenants.ProjectB),
        "adminA-in-B" => OidcClient.Api(cloud.ComputeUrl, tenants.Token("adminA"), tenants.ProjectB),
        "cloudAdmin" => OidcClient.Api(cloud.ComputeUrl, tenants.AdminToken),
        _ => throw new ArgumentOutOfRangeException(nameof(caller), caller, null),
    };

    /// <summary>The server's own list of Compute routes must be exactly the matrix's.</summary>
    private static async Task AssertEveryRouteHasARowAsync(TestCloud cloud, IEnumerable<Row> rows)
    {
        var listed = await CloudPortalProcess.RunAsync(["admin", "routes", "compute", "--json", "--data-dir", cloud.Deployment.NewDirectory()], cloud.Deployment.Environment());
        Assert.True(listed.ExitCode == 0, listed.Output);
        var routes = JsonDocument.Parse(listed.StandardOutput).RootElement.GetProperty("routes").EnumerateArray()
            .Where(r => r.GetProperty("document").GetString() == "compute")
            .SelectMany(r => r.GetProperty("methods").EnumerateArray().Select(m => $"{m.GetString()} {r.GetProperty("route").GetString()}"))
            .ToHashSet();
        var covered = rows.Select(r => $"{r.Method} {r.Route}").ToHashSet();
        Assert.Empty(routes.Except(covered));
        Assert.Empty(covered.Except(routes));
    }

    private async Task<Guid> ActiveInstanceAsync(ComputeClient member)
    {
        var id = await member.LaunchOneAsync(fixture.PublicImage, name: "matrix");
        await member.WaitForStatusAsync(id, "active");
        return id;
    }

    private async Task<Guid> PrivateFlavorForAAsync(ComputeClient admin)
    {
        var id = await CreateAsync(admin, "compute/v1/flavors", () => new { name = Unique("private"), vcpus = 1, ramMb = 64, diskGb = 1, isPublic = false });
        using var granted = await admin.Http.PutAsync($"compute/v1/flavors/{id}/access/{fixture.Tenants.ProjectA}", null);
        Assert.Equal(HttpStatusCode.NoContent, granted.StatusCode);
        return id;
    }

    private static async Task<Guid> CreateAsync(ComputeClient client, string path, Func<object> body)
    {
        using var response = await client.Http.PostAsJsonAsync(path, body());
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];
}
