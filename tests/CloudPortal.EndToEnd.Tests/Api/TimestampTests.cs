using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Api;

/// <summary>Every time a REST API answers is UTC and says so with a <c>Z</c>, whichever database the modules read it from.</summary>
public sealed partial class TimestampTests
{
    [Theory]
    [InlineData("all-in-one")]   // SQLite
    [InlineData("distributed")]  // PostgreSQL
    public async Task Every_time_in_the_modules_answers_is_utc_with_a_Z(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var identity = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        using var member = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        using var scheduler = OidcClient.Api(cloud.SchedulerUrl, tenants.AdminToken);
        using var computeAdmin = OidcClient.Api(cloud.ComputeUrl, tenants.AdminToken);
        using var compute = OidcClient.Api(cloud.ComputeUrl, tenants.Token("memberA"), tenants.ProjectA);
        using var images = OidcClient.Api(cloud.ImagesUrl, tenants.Token("memberA"), tenants.ProjectA);

        // Something with times in each module, written by this test and read back from the database.
        (await member.PostAsJsonAsync($"identity/v1/projects/{tenants.ProjectA}/access-keys", new { })).EnsureSuccessStatusCode();
        (await computeAdmin.PostAsJsonAsync("compute/v1/flavors", new { name = $"utc-{tenants.Suffix}", vCpus = 1, ramMb = 64, diskGb = 1 })).EnsureSuccessStatusCode();
        (await compute.PostAsJsonAsync("compute/v1/key-pairs", new { name = $"utc-{tenants.Suffix}" })).EnsureSuccessStatusCode();
        using var image = await images.PostAsJsonAsync("images/v2/images", new { name = "utc", diskFormat = "raw", containerFormat = "bare" });
        image.EnsureSuccessStatusCode();
        var imageId = (await image.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await Eventually.TrueAsync(async () => (await scheduler.GetFromJsonAsync<JsonElement>("scheduler/v1/hosts")).GetProperty("hosts").GetArrayLength() > 0,
            "the node reports to the scheduler");

        var answers = new Dictionary<string, JsonElement>
        {
            ["identity/v1/projects"] = await identity.GetFromJsonAsync<JsonElement>("identity/v1/projects?limit=1000"),
            ["identity/v1/users"] = await identity.GetFromJsonAsync<JsonElement>("identity/v1/users?limit=1000"),
            ["identity/v1/audit"] = await identity.GetFromJsonAsync<JsonElement>("identity/v1/audit"),
            ["identity/v1/access-keys"] = await member.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{tenants.ProjectA}/access-keys"),
            ["scheduler/v1/hosts"] = await scheduler.GetFromJsonAsync<JsonElement>("scheduler/v1/hosts"),
            [$"scheduler/v1/hosts/{cloud.Node}"] = await scheduler.GetFromJsonAsync<JsonElement>($"scheduler/v1/hosts/{Uri.EscapeDataString(cloud.Node)}"),
            ["compute/v1/flavors"] = await computeAdmin.GetFromJsonAsync<JsonElement>("compute/v1/flavors?limit=1000"),
            ["compute/v1/key-pairs"] = await compute.GetFromJsonAsync<JsonElement>("compute/v1/key-pairs"),
            ["compute/v1/instances"] = await compute.GetFromJsonAsync<JsonElement>("compute/v1/instances"),
            ["images/v2/images"] = await images.GetFromJsonAsync<JsonElement>("images/v2/images"),
            [$"images/v2/images/{imageId}"] = await images.GetFromJsonAsync<JsonElement>($"images/v2/images/{imageId}"),
        };

        var times = new List<string>();
        var failures = new List<string>();
        foreach (var (path, answer) in answers)
        {
            foreach (var (where, value) in Strings(answer, path).Where(s => DateLike().IsMatch(s.Value)))
            {
                times.Add(where);
                if (!value.EndsWith('Z')
                    || !DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
                    || parsed.Kind != DateTimeKind.Utc)
                    failures.Add($"{where} = {value}");
            }
        }
        Assert.True(failures.Count == 0, $"{mode}: times without Z:\n{string.Join('\n', failures)}");
        // The projects', users', hosts', flavors', key pairs' and images' own times were seen (and checked) above.
        foreach (var field in new[] { "identity/v1/projects.projects[0].createdAt", "identity/v1/users.users[0].createdAt", "scheduler/v1/hosts.hosts[0].lastHeartbeatAt",
                     "compute/v1/flavors.flavors[0].createdAt", "compute/v1/key-pairs.keyPairs[0].createdAt", "identity/v1/access-keys.accessKeys[0].createdAt",
                     $"images/v2/images/{imageId}.createdAt" })
            Assert.Contains(field, times);
    }

    private static IEnumerable<(string Where, string Value)> Strings(JsonElement element, string where) => element.ValueKind switch
    {
        JsonValueKind.String => [(where, element.GetString()!)],
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p => Strings(p.Value, $"{where}.{p.Name}")),
        JsonValueKind.Array => element.EnumerateArray().SelectMany((e, i) => Strings(e, $"{where}[{i}]")),
        _ => [],
    };

    /// <summary>An ISO 8601 date and time, as System.Text.Json writes a DateTime (with or without a zone).</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")]
    private static partial Regex DateLike();
}
