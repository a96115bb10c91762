using System.Net;
using System.Net.Http.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// A password change or reset, a disabled or deleted user and a removed project role (or a deleted project) revoke
/// every refresh token of that user at once: the token endpoint answers invalid_grant. Other users' tokens keep working.
/// </summary>
public sealed class RevocationTests
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task A_refresh_token_stops_working_when_its_user_loses_their_password_account_or_role()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var bystander = await SignInAsync(cloud, tenants, "memberB");

        // The user changes their own password: the session that did it loses its refresh token too.
        var member = await SignInAsync(cloud, tenants, "memberA");
        using (var self = OidcClient.Api(cloud.IdentityUrl, member.AccessToken))
        using (var changed = await self.PostAsJsonAsync("identity/v1/users/me/password", new { currentPassword = Tenants.Password, newPassword = NewPassword }))
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        await AssertRevokedAsync(cloud, member);
        // Signing in with the new password gives tokens that work.
        var again = await cloud.Oidc.SignInAsync(tenants.UserName("memberA"), NewPassword);
        Assert.NotNull((await cloud.Oidc.RefreshAsync(again.RefreshToken!)).AccessToken);

        // A cloud admin resets a password.
        var reader = await SignInAsync(cloud, tenants, "readerA");
        using (var reset = await admin.PostAsJsonAsync($"identity/v1/users/{tenants.Id("readerA")}/password", new { newPassword = NewPassword }))
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        await AssertRevokedAsync(cloud, reader);

        // A project admin removes a role: every token of that user ends, not only the project's.
        var projectAdmin = await SignInAsync(cloud, tenants, "adminA");
        using (var removed = await admin.DeleteAsync($"identity/v1/projects/{tenants.ProjectA}/members/{tenants.Id("adminA")}"))
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        await AssertRevokedAsync(cloud, projectAdmin);

        // A cloud admin disables a user: refused at the token endpoint and at sign-in; unlock enables them again.
        var target = await SignInAsync(cloud, tenants, "target");
        using (var disabled = await admin.PostAsync($"identity/v1/users/{tenants.Id("target")}/disable", null))
            Assert.Equal(HttpStatusCode.NoContent, disabled.StatusCode);
        await AssertRevokedAsync(cloud, target);
        var (refused, _) = await cloud.Oidc.SignInRawAsync(tenants.UserName("target"), Tenants.Password);
        Assert.Null(refused);
        using (var unlocked = await admin.PostAsync($"identity/v1/users/{tenants.Id("target")}/unlock", null))
            Assert.Equal(HttpStatusCode.NoContent, unlocked.StatusCode);
        Assert.NotNull((await cloud.Oidc.SignInAsync(tenants.UserName("target"), Tenants.Password)).RefreshToken);

        // A cloud admin deletes a user.
        var deleted = await cloud.Oidc.SignInAsync(tenants.UserName("target"), Tenants.Password);
        using (var gone = await admin.DeleteAsync($"identity/v1/users/{tenants.Id("target")}"))
            Assert.Equal(HttpStatusCode.NoContent, gone.StatusCode);
        await AssertRevokedAsync(cloud, deleted);

        // Nobody else lost anything.
        var kept = await cloud.Oidc.RefreshAsync(bystander.RefreshToken!);
        Assert.NotNull(kept.AccessToken);

        // Deleting a project removes its members' roles: their tokens end too.
        using (var deletedProject = await admin.DeleteAsync($"identity/v1/projects/{tenants.ProjectB}"))
            Assert.Equal(HttpStatusCode.NoContent, deletedProject.StatusCode);
        await AssertRevokedAsync(cloud, kept);
    }

    [Fact]
    public async Task A_cloud_admin_cannot_disable_their_own_account()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var admin = await cloud.Oidc.SignInAsync("admin", cloud.AdminPassword);
        using var api = OidcClient.Api(cloud.IdentityUrl, admin.AccessToken);
        var me = await api.GetFromJsonAsync<System.Text.Json.JsonElement>("identity/v1/users/me");

        await ProblemAssert.ExpectAsync(api.PostAsync($"identity/v1/users/{me.GetProperty("id").GetGuid()}/disable", null), 409, "cannot_disable_self");
        Assert.NotNull((await cloud.Oidc.RefreshAsync(admin.RefreshToken!)).AccessToken);
    }

    private static Task<TokenSet> SignInAsync(TestCloud cloud, Tenants tenants, string user) =>
        cloud.Oidc.SignInAsync(tenants.UserName(user), Tenants.Password);

    private static async Task AssertRevokedAsync(TestCloud cloud, TokenSet tokens)
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => cloud.Oidc.RefreshAsync(tokens.RefreshToken!));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("invalid_grant", refused.Message, StringComparison.Ordinal);
    }
}
