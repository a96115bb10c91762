using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Microsoft.Playwright;
using Xunit;

namespace CloudPortal.Portal.Tests;

/// <summary>One all-in-one with projects A and B and an instance in A, shared by the security checks of the portal.</summary>
public sealed class SecurityCloud : IAsyncLifetime
{
    public TestCloud Cloud { get; private set; } = null!;

    public Tenants Tenants { get; private set; } = null!;

    public Guid InstanceA { get; private set; }

    // Distinctive on purpose: a short name such as "a-1" also occurs inside generated project names ("beta-1…").
    public const string InstanceAName = "secret-web-of-alpha";

    public async ValueTask InitializeAsync()
    {
        Cloud = await TestCloud.StartAsync("all-in-one");
        Tenants = await Tenants.CreateAsync(Cloud);
        using var images = OidcClient.Api(Cloud.ImagesUrl, Tenants.Token("memberA"), Tenants.ProjectA);
        var imageId = await GuestImage.UploadAsync(images);
        using var compute = OidcClient.Api(Cloud.ComputeUrl, Tenants.Token("memberA"), Tenants.ProjectA);
        using var launched = await compute.PostAsJsonAsync("compute/v1/instances", new { name = InstanceAName, flavorId = "m1.tiny", imageId });
        Assert.True(launched.IsSuccessStatusCode, await launched.Content.ReadAsStringAsync());
        InstanceA = (await launched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("instances")[0].GetProperty("id").GetGuid();
    }

    public async ValueTask DisposeAsync() => await Cloud.DisposeAsync();
}

/// <summary>What the portal refuses: a reader's changes, another project's resources, forms it did not send.</summary>
public sealed class PortalSecurityTests(PortalBrowser browser, SecurityCloud security) : IClassFixture<PortalBrowser>, IClassFixture<SecurityCloud>
{
    private const string Test = "security";

    [Fact]
    public async Task A_reader_sees_no_action_controls_and_a_forged_post_is_refused()
    {
        var reader = await SignInAsync("readerA");
        await reader.GotoAsync($"/instances/{security.InstanceA}");
        await reader.WaitForSelectorAsync("#instance-status");
        Assert.Equal(0, await reader.Locator("#instance-actions").CountAsync());
        Assert.Equal(0, await reader.Locator("form[action*='/actions/']").CountAsync());
        await reader.GotoAsync("/instances");
        Assert.Equal(0, await reader.Locator("#launch").CountAsync());
        await PortalBrowser.ScreenshotAsync(reader, Test, "reader-no-controls");

        // A POST the page never offered, with the reader's own valid antiforgery token: Compute refuses it.
        await reader.GotoAsync($"/instances/{security.InstanceA}");
        await reader.EvaluateAsync("""
            path => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = path;
                const token = document.querySelector('input[name=__RequestVerificationToken]').cloneNode();
                form.appendChild(token);
                document.body.appendChild(form);
                form.submit();
            }
            """, $"/instances/{security.InstanceA}/actions/stop");
        await reader.WaitForSelectorAsync("[role=status].alert");
        Assert.Contains("this needs member", await PortalPages.FlashAsync(reader));
        using var admin = OidcClient.Api(security.Cloud.ComputeUrl, security.Tenants.AdminToken);
        var actions = await admin.GetFromJsonAsync<JsonElement>($"compute/v1/instances/{security.InstanceA}/actions");
        Assert.DoesNotContain(actions.GetProperty("actions").EnumerateArray(), a => a.GetProperty("action").GetString() == "stop");
    }

    [Fact]
    public async Task A_member_of_another_project_gets_a_404_page_for_its_instance()
    {
        var other = await SignInAsync("memberB");
        var response = await other.GotoAsync($"/instances/{security.InstanceA}");
        Assert.Equal(404, response!.Status);
        Assert.Contains("does not exist", await other.TextContentAsync("#error-message"));
        Assert.DoesNotContain(SecurityCloud.InstanceAName, await other.ContentAsync());
        await PortalBrowser.ScreenshotAsync(other, Test, "other-project-404");
    }

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_is_refused()
    {
        var member = await SignInAsync("memberA");
        await member.GotoAsync("/key-pairs");
        var status = await member.EvaluateAsync<int>("""
            async () => (await fetch('/key-pairs', { method: 'POST', body: new URLSearchParams({ name: 'forged', type: 'ed25519' }) })).status
            """);
        Assert.Equal(400, status);
        await member.GotoAsync("/key-pairs");
        Assert.Equal(0, await member.Locator("[data-key-pair=forged]").CountAsync());
    }

    [Fact]
    public async Task Every_page_fits_a_phones_width_and_labels_every_field()
    {
        var member = await SignInAsync("memberA");
        await member.SetViewportSizeAsync(390, 844);
        foreach (var path in new[] { "/", "/instances", $"/instances/{security.InstanceA}", "/launch", "/images", "/images/new", "/key-pairs", "/server-groups" })
        {
            await member.GotoAsync(path);
            Assert.True(await member.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), $"{path} scrolls sideways at 390 px");
            var unlabelled = await member.EvaluateAsync<string[]>("""
                () => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
                    .filter(f => !(f.id && document.querySelector(`label[for="${f.id}"]`)) && !f.getAttribute('aria-label'))
                    .map(f => f.name || f.id || f.outerHTML)
                """);
            Assert.True(unlabelled.Length == 0, $"{path} has fields without a label: {string.Join(", ", unlabelled)}");
        }
        await PortalBrowser.ScreenshotAsync(member, Test, "phone-width");
    }

    [Fact]
    public async Task A_password_change_sends_the_portal_session_back_to_sign_in_on_its_next_request()
    {
        // A user of this test alone: the shared ones keep their passwords for the other tests.
        var userName = $"changer-{security.Tenants.Suffix}";
        using var admin = OidcClient.Api(security.Cloud.IdentityUrl, security.Tenants.AdminToken);
        using (var created = await admin.PostAsJsonAsync("identity/v1/users", new { userName, password = Tenants.Password }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            (await admin.PutAsJsonAsync($"identity/v1/projects/{security.Tenants.ProjectA}/members/{id}", new { role = "reader" })).EnsureSuccessStatusCode();
        }
        var page = await browser.NewUserAsync(security.Cloud.IdentityUrl);
        await PortalPages.SignInAsync(page, userName, Tenants.Password);
        await page.GotoAsync("/instances");
        await page.WaitForSelectorAsync("#signed-in-user");

        // The password changes elsewhere (another device, through the API).
        var tokens = await security.Cloud.Oidc.SignInAsync(userName, Tenants.Password);
        using (var self = OidcClient.Api(security.Cloud.IdentityUrl, tokens.AccessToken))
        using (var changed = await self.PostAsJsonAsync("identity/v1/users/me/password", new { currentPassword = Tenants.Password, newPassword = "a brand new passphrase" }))
            Assert.Equal(System.Net.HttpStatusCode.NoContent, changed.StatusCode);

        // Long before the access token's 15 minutes are up, the next page asks to sign in again.
        await Eventually.TrueAsync(async () =>
        {
            await page.GotoAsync("/instances");
            return await page.Locator("#UserName").CountAsync() > 0;
        }, "the portal to send the session back to the sign-in form", last: () => page.Url);
        Assert.Contains("/identity/account/login", page.Url, StringComparison.Ordinal);
        await PortalBrowser.ScreenshotAsync(page, Test, "session-ended-after-password-change");
    }

    private async Task<IPage> SignInAsync(string user)
    {
        var page = await browser.NewUserAsync(security.Cloud.IdentityUrl);
        await PortalPages.SignInAsync(page, security.Tenants.UserName(user), Tenants.Password);
        return page;
    }
}
