using System.Net;
using System.Net.Http.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// Disabling a project takes it from its members at once, in every process that serves project resources, although
/// the access tokens they hold still name their role in it: each process hears of the change (an event to its own
/// queue) or, starting later, asks Identity. Enabling it gives the same tokens their role back. Cloud admins and other
/// projects are not affected.
/// </summary>
public sealed class ProjectDisableTests
{
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_disabled_projects_members_lose_it_at_once_with_the_tokens_they_hold(string mode)
    {
        await using var cloud = await TestCloud.StartAsync(mode);
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);

        Assert.Equal(HttpStatusCode.OK, await InstancesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA));
        Assert.Equal(HttpStatusCode.OK, await ImagesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA));
        Assert.Equal(HttpStatusCode.OK, await QuotaAsync(cloud, tenants.Token("memberA"), tenants.ProjectA));

        await SetEnabledAsync(admin, tenants.ProjectA, enabled: false);

        // The same token, minutes from expiry: Compute, Images and Identity (separate processes when distributed) treat
        // its holder as outside the project, as a token issued now would: 403 where the header names it, 404 where the
        // route does.
        await Eventually.TrueAsync(async () => await InstancesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA) == HttpStatusCode.Forbidden,
            "Compute to refuse project A to memberA's token", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => await ImagesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA) == HttpStatusCode.Forbidden,
            "Images to refuse project A to memberA's token", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => await QuotaAsync(cloud, tenants.Token("memberA"), tenants.ProjectA) == HttpStatusCode.NotFound,
            "Identity to hide project A from memberA's token", TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.Forbidden, await InstancesAsync(cloud, tenants.Token("adminA"), tenants.ProjectA));

        // Nobody else lost anything: project B's member, and the cloud admin who manages project A.
        Assert.Equal(HttpStatusCode.OK, await InstancesAsync(cloud, tenants.Token("memberB"), tenants.ProjectB));
        Assert.Equal(HttpStatusCode.OK, await InstancesAsync(cloud, tenants.AdminToken, tenants.ProjectA));
        Assert.Equal(HttpStatusCode.OK, await QuotaAsync(cloud, tenants.AdminToken, tenants.ProjectA));

        await SetEnabledAsync(admin, tenants.ProjectA, enabled: true);
        await Eventually.TrueAsync(async () => await InstancesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA) == HttpStatusCode.OK,
            "Compute to admit memberA's token to project A again", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => await QuotaAsync(cloud, tenants.Token("memberA"), tenants.ProjectA) == HttpStatusCode.OK,
            "Identity to show project A to memberA's token again", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_process_that_starts_after_the_change_asks_Identity_which_projects_are_disabled()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using (var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken))
            await SetEnabledAsync(admin, tenants.ProjectA, enabled: false);

        // A restart forgets every event; the new process learns the disabled project from Identity's answer.
        await cloud.RestartIdentityAsync();
        await Eventually.TrueAsync(() => Task.FromResult(cloud.IdentityProcess.Output.Contains("Disabled projects resynced from Identity: 1 projects changed status", StringComparison.Ordinal)),
            "the restarted cloud to learn the disabled projects", TimeSpan.FromSeconds(60), () => cloud.IdentityProcess.Output[^Math.Min(2000, cloud.IdentityProcess.Output.Length)..]);
        Assert.Equal(HttpStatusCode.Forbidden, await InstancesAsync(cloud, tenants.Token("memberA"), tenants.ProjectA));
        Assert.Equal(HttpStatusCode.OK, await InstancesAsync(cloud, tenants.Token("memberB"), tenants.ProjectB));
    }

    private static async Task SetEnabledAsync(HttpClient admin, Guid project, bool enabled)
    {
        using var response = await admin.PatchAsJsonAsync($"identity/v1/projects/{project}", new { enabled });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(enabled, (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("enabled").GetBoolean());
    }

    private static Task<HttpStatusCode> InstancesAsync(TestCloud cloud, string token, Guid project) => StatusAsync(cloud.ComputeUrl, token, project, "compute/v1/instances");

    private static Task<HttpStatusCode> ImagesAsync(TestCloud cloud, string token, Guid project) => StatusAsync(cloud.ImagesUrl, token, project, "images/v2/images");

    private static Task<HttpStatusCode> QuotaAsync(TestCloud cloud, string token, Guid project) => StatusAsync(cloud.IdentityUrl, token, null, $"identity/v1/projects/{project}/quota");

    private static async Task<HttpStatusCode> StatusAsync(string url, string token, Guid? project, string path)
    {
        using var api = OidcClient.Api(url, token, project);
        using var response = await api.GetAsync(path);
        return response.StatusCode;
    }
}
