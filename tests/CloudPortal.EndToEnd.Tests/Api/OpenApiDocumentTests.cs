using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Api;

/// <summary>A running all-in-one and what <c>cloudportal admin routes</c> says it maps, shared by the tests of one class.</summary>
public sealed class AllInOneWithRoutes : IAsyncLifetime
{
    private Deployment? _deployment;
    private CloudPortalProcess? _process;

    public string Url { get; } = $"http://127.0.0.1:{FreePort.Next()}";

    public JsonElement Routes { get; private set; }

    public async ValueTask InitializeAsync()
    {
        _deployment = await Deployment.AllInOneAsync();
        _process = CloudPortalProcess.Start(["all-in-one", "--urls", Url, "--data-dir", _deployment.DataDir], _deployment.Environment());
        await _process.WaitUntilReadyAsync(Url, CloudPortalProcess.ReadyTimeout);
        // The same configuration and data directory as the server: the command composes the application it runs.
        var routes = await CloudPortalProcess.RunAsync(["admin", "routes", "--json", "--data-dir", _deployment.DataDir], _deployment.Environment());
        Assert.True(routes.ExitCode == 0, routes.Output);
        Routes = JsonDocument.Parse(routes.StandardOutput).RootElement.Clone();
    }

    public async Task<JsonElement> DocumentAsync(string module)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url) };
        using var response = await http.GetAsync($"/openapi/{module}.json");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/openapi/{module}.json answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
            await _process.DisposeAsync();
        if (_deployment is not null)
            await _deployment.DisposeAsync();
    }
}

public sealed partial class OpenApiDocumentTests(AllInOneWithRoutes cloud) : IClassFixture<AllInOneWithRoutes>
{
    private static readonly string[] OperationMethods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    /// <summary>The modules whose REST APIs exist today; a module that adds one (compute) shows up by itself.</summary>
    private static readonly Dictionary<string, string> KnownDocuments = new()
    {
        ["identity"] = "/identity/v1",
        ["scheduler"] = "/scheduler/v1",
        ["images"] = "/images/v2",
        ["messaging"] = "/messaging/v1",
    };

    /// <summary>Routes that belong to no module API, each left out of every document on purpose (docs/api/README.md).</summary>
    private static bool IsPlatformOrNonRest(string route) =>
        route is "/health/live" or "/health/ready" or "/openapi/{documentName}.json"   // platform: health probes, the documents themselves
        || route.StartsWith("/identity/account/", StringComparison.Ordinal)           // Identity's HTML pages
        || route.StartsWith("/identity/connect/", StringComparison.Ordinal)           // OpenID Connect protocol endpoints
        || route == "/ec2"                                                            // the EC2 Query API (docs/api/ec2.md)
        || PortalPages.Contains(route.Split('/')[1]);                               // the portal's HTML pages and its live hub (docs/portal.md)

    /// <summary>The first path segment of every portal page; the images pages share theirs with Images' <c>/images/v2</c>, which its document covers.</summary>
    private static readonly HashSet<string> PortalPages =
        ["", "instances", "launch", "images", "key-pairs", "server-groups", "admin", "signin", "signout", "signin-failed", "forbidden", "project", "live"];

    [Fact]
    public async Task Every_route_the_all_in_one_maps_is_described_by_its_modules_document_or_is_a_known_non_REST_endpoint()
    {
        // A module may map more than one prefix into its document.
        var documents = cloud.Routes.GetProperty("documents").EnumerateArray()
            .Select(d => (Module: d.GetProperty("module").GetString()!, Prefix: d.GetProperty("prefix").GetString()!))
            .ToList();
        foreach (var (module, prefix) in KnownDocuments)
            Assert.True(documents.Contains((module, prefix)), $"no '{module}' document for {prefix}; documents: {string.Join(", ", documents)}");

        var routes = cloud.Routes.GetProperty("routes").EnumerateArray()
            .Select(r => (Methods: r.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToList(),
                Route: r.GetProperty("route").GetString()!, Excluded: r.GetProperty("excluded").GetBoolean()))
            .ToList();
        Assert.Contains(routes, r => r.Route == "/images/v2/images/{imageId:guid}");

        var failures = new List<string>();
        foreach (var module in documents.Select(d => d.Module).Distinct())
        {
            var prefixes = documents.Where(d => d.Module == module).Select(d => d.Prefix).ToList();
            var mapped = routes.Where(r => prefixes.Any(prefix => Under(r.Route, prefix)))
                .SelectMany(r => r.Methods.Select(m => $"{m} {Normalize(r.Route)}"))
                .ToHashSet(StringComparer.Ordinal);
            var described = Operations(await cloud.DocumentAsync(module)).Select(o => $"{o.Method} {o.Path}").ToHashSet(StringComparer.Ordinal);
            failures.AddRange(mapped.Except(described).Order().Select(r => $"{module}: mapped but not in /openapi/{module}.json: {r}"));
            failures.AddRange(described.Except(mapped).Order().Select(r => $"{module}: in /openapi/{module}.json but not mapped: {r}"));
        }
        foreach (var route in routes.Where(r => !documents.Any(d => Under(r.Route, d.Prefix))))
        {
            if (!IsPlatformOrNonRest(route.Route))
                failures.Add($"{string.Join(',', route.Methods)} {route.Route} is under no module API and is not a known platform or non-REST endpoint");
            else if (!route.Excluded)
                failures.Add($"{route.Route} is not REST but is not explicitly excluded from the API description");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Module_documents_give_summaries_who_may_call_problem_responses_with_code_and_the_bearer_scheme()
    {
        var modules = cloud.Routes.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("module").GetString()!).Distinct().ToList();
        Assert.Superset(KnownDocuments.Keys.ToHashSet(), modules.ToHashSet());
        foreach (var module in modules)
        {
            var document = await cloud.DocumentAsync(module);
            Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
            Assert.Equal($"CloudPortal {module} API", document.GetProperty("info").GetProperty("title").GetString());
            var components = document.GetProperty("components");
            var bearer = components.GetProperty("securitySchemes").GetProperty("bearer");
            Assert.Equal("http", bearer.GetProperty("type").GetString());
            Assert.Equal("bearer", bearer.GetProperty("scheme").GetString());
            var problem = components.GetProperty("schemas").GetProperty("ProblemDetails");
            Assert.Equal("string", problem.GetProperty("properties").GetProperty("code").GetProperty("type").GetString());
            Assert.Contains("code", problem.GetProperty("required").EnumerateArray().Select(r => r.GetString()));

            var operations = Operations(document);
            Assert.NotEmpty(operations);
            foreach (var (method, path, operation) in operations)
            {
                var name = $"{module}: {method} {path}";
                Assert.True(operation.TryGetProperty("summary", out var summary) && summary.GetString()!.Length > 0, $"{name} has no summary");
                Assert.Contains("Who may call: ", operation.GetProperty("description").GetString(), StringComparison.Ordinal);
                Assert.True(operation.TryGetProperty("security", out var security), $"{name} says nothing about authentication");
                // An empty requirement: the route checks a credential of its own (signed URL, console ticket) instead of a token.
                var anonymous = security.EnumerateArray().Any(s => s.ValueKind == JsonValueKind.Object && !s.EnumerateObject().Any());
                Assert.True(anonymous || security.EnumerateArray().Any(s => s.TryGetProperty("bearer", out _)), $"{name} does not require the bearer token");
                var responses = operation.GetProperty("responses");
                Assert.True(responses.TryGetProperty("401", out _), $"{name} does not describe 401");
                // 101: a websocket's success is the protocol switch.
                Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2') || r.Name == "101"), $"{name} describes no success response");
                foreach (var error in responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
                {
                    var content = error.Value.GetProperty("content");
                    Assert.True(content.TryGetProperty("application/problem+json", out var body), $"{name} {error.Name} is not problem details");
                    Assert.Equal("#/components/schemas/ProblemDetails", body.GetProperty("schema").GetProperty("$ref").GetString());
                }
            }
        }
    }

    [Fact]
    public async Task Images_operations_take_the_project_header_unless_their_route_names_the_project_and_identity_operations_never_do()
    {
        var images = Operations(await cloud.DocumentAsync("images"));
        Assert.Contains(images, o => o.Path.Contains("{projectId}", StringComparison.Ordinal));
        foreach (var (method, path, operation) in images)
        {
            var header = HeaderParameters(operation).Contains("CloudPortal-Project");
            Assert.True(header != path.Contains("{projectId}", StringComparison.Ordinal), $"images {method} {path}: project header {(header ? "present" : "missing")}");
        }
        foreach (var (method, path, operation) in Operations(await cloud.DocumentAsync("identity")))
            Assert.False(HeaderParameters(operation).Contains("CloudPortal-Project"), $"identity {method} {path} names the project in its route or acts in none");
    }

    /// <summary>
    /// Every REST answer is an object, lists as <c>{"items-name": [...], "next": ...}</c>: a bare array leaves no room for a
    /// next link or anything else a list grows later. A list with a next link takes <c>limit</c> and <c>marker</c>.
    /// </summary>
    [Fact]
    public async Task No_operation_answers_a_bare_array_and_every_paged_list_takes_limit_and_marker()
    {
        var failures = new List<string>();
        var lists = 0;
        foreach (var module in cloud.Routes.GetProperty("documents").EnumerateArray().Select(d => d.GetProperty("module").GetString()!).Distinct())
        {
            var document = await cloud.DocumentAsync(module);
            var schemas = document.GetProperty("components").GetProperty("schemas");
            foreach (var (method, path, operation) in Operations(document))
            {
                foreach (var response in operation.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')))
                {
                    if (!response.Value.TryGetProperty("content", out var content) || !content.TryGetProperty("application/json", out var json))
                        continue;
                    var schema = Resolve(schemas, json.GetProperty("schema"));
                    if (Types(schema).Contains("array"))
                    {
                        failures.Add($"{module}: {method} {path} answers {response.Name} with a bare array");
                        continue;
                    }
                    if (method != "GET" || !schema.TryGetProperty("properties", out var properties) || !properties.TryGetProperty("next", out _))
                        continue;
                    lists++;
                    var query = operation.TryGetProperty("parameters", out var parameters)
                        ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()).ToList()
                        : [];
                    if (!query.Contains("limit") || !query.Contains("marker"))
                        failures.Add($"{module}: {method} {path} answers a next link but takes no limit and marker");
                    if (!properties.EnumerateObject().Any(p => p.Name != "next" && Types(Resolve(schemas, p.Value)).Contains("array")))
                        failures.Add($"{module}: {method} {path} answers a next link but no list beside it");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        // The paged lists of Identity, the Scheduler and Images at least (projects, users, members, access keys, audit, hosts, ...).
        Assert.True(lists >= 10, $"only {lists} paged lists found: the check above saw too little");
    }

    private static JsonElement Resolve(JsonElement schemas, JsonElement schema) =>
        schema.TryGetProperty("$ref", out var reference) && reference.GetString() is { } name && name.StartsWith("#/components/schemas/", StringComparison.Ordinal)
            ? schemas.GetProperty(name["#/components/schemas/".Length..])
            : schema;

    /// <summary>OpenAPI 3.1 gives a type as a string or, for a nullable one, as a list of strings.</summary>
    private static List<string?> Types(JsonElement schema) =>
        !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList()
        : [type.GetString()];

    [Fact]
    public async Task A_module_without_a_REST_API_has_no_document()
    {
        using var http = new HttpClient { BaseAddress = new Uri(cloud.Url) };
        await ProblemAssert.ExpectAsync(http.GetAsync("/openapi/network.json"), 404, "not_found");
        await ProblemAssert.ExpectAsync(http.GetAsync("/openapi/no-such-module.json"), 404, "not_found");
    }

    [Fact]
    public async Task A_serve_process_serves_the_documents_of_the_modules_it_hosts_only()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var scheduler = CloudPortalProcess.Start(["serve", "scheduler", "--urls", url, "--data-dir", deployment.DataDir], deployment.Environment());
        await scheduler.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        using var document = await http.GetAsync("/openapi/scheduler.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("\"/scheduler/v1/hosts\"", await document.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await ProblemAssert.ExpectAsync(http.GetAsync("/openapi/images.json"), 404, "not_found");
        await ProblemAssert.ExpectAsync(http.GetAsync("/openapi/identity.json"), 404, "not_found");
    }

    private static bool Under(string route, string prefix) =>
        route == prefix || route.StartsWith(prefix + "/", StringComparison.Ordinal);

    /// <summary><c>{imageId:guid}</c> → <c>{imageId}</c>, <c>{*path}</c> → <c>{path}</c>: OpenAPI paths carry no route constraints.</summary>
    private static string Normalize(string route) => RouteParameter().Replace(route, "{$1}");

    private static List<(string Method, string Path, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject()
                .Where(op => OperationMethods.Contains(op.Name))
                .Select(op => (op.Name.ToUpperInvariant(), path.Name, op.Value)))
            .ToList();

    private static List<string> HeaderParameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()!).ToList()
            : [];

    [GeneratedRegex(@"\{\**([^}:=?]+)[^}]*\}")]
    private static partial Regex RouteParameter();
}
