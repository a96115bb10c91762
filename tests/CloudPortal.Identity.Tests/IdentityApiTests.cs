using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// The Identity REST API's behaviour: bad input, quotas, access keys, lockout, passwords, audit; in both deployment
/// modes (SQLite and the in-memory bus in one process; PostgreSQL, RabbitMQ and Identity in a process of its own), one
/// cloud per mode. Each test makes its own projects and users, so the tests of a class share the cloud.
/// </summary>
public abstract class IdentityApiTests(IdentityCloud fixture)
{
    [Fact]
    public async Task Bad_input_gets_a_problem_with_a_stable_code_and_creates_nothing()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var a = tenants.ProjectA;
        var existingProject = (await admin.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{a}")).GetProperty("name").GetString();
        var usersBefore = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/users?limit=1000")).GetProperty("users").GetArrayLength();

        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/projects", new { name = existingProject }), 409, "project_name_taken");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/projects", new { name = "has spaces!" }), 400, "invalid_project_name");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/projects", new { name = "" }), 400, "invalid_project_name");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/users", new { userName = "admin", password = "another long password" }), 409, "user_name_taken");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/users", new { userName = "shorty", password = "short" }), 400, "weak_password");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/users", new { userName = "samesame", password = "aaaaaaaaaaaaaaaa" }), 400, "weak_password");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/users", new { userName = "victor", password = "victor-is-my-password" }), 400, "weak_password");
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync("identity/v1/users", new { userName = "bad name/../", password = "a fine long password" }), 400, "invalid_user_name");
        await ProblemAssert.ExpectAsync(admin.GetAsync($"identity/v1/projects/{Guid.NewGuid()}"), 404, "project_not_found");
        await ProblemAssert.ExpectAsync(admin.GetAsync($"identity/v1/users/{Guid.NewGuid()}"), 404, "user_not_found");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/members/{Guid.NewGuid()}", new { role = "member" }), 404, "user_not_found");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/members/{tenants.Id("target")}", new { role = "owner" }), 400, "invalid_role");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/members/{tenants.Id("target")}", new { role = "7" }), 400, "invalid_role");
        foreach (var limit in new object[] { "abc", -1, 1.5, true })
            await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/instances", new { limit }), 400, "invalid_quota_value");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/instances", new { }), 400, "invalid_quota_value");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/unicorns", new { limit = 1 }), 400, "unknown_quota_resource");
        await ProblemAssert.ExpectAsync(admin.PutAsJsonAsync($"identity/v1/projects/{Guid.NewGuid()}/quota/instances", new { limit = 1 }), 404, "project_not_found");

        Assert.Equal(usersBefore, (await admin.GetFromJsonAsync<JsonElement>("identity/v1/users?limit=1000")).GetProperty("users").GetArrayLength());
        var quota = await admin.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{a}/quota");
        Assert.All(quota.GetProperty("resources").EnumerateArray(), line => Assert.False(line.GetProperty("overridden").GetBoolean()));
    }

    [Fact]
    public async Task Lists_answer_pages_that_follow_each_other_by_limit_and_marker()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);

        foreach (var (path, items, name) in new[]
        {
            ("identity/v1/users", "users", "userName"),
            ("identity/v1/projects", "projects", "name"),
            ($"identity/v1/projects/{tenants.ProjectA}/members", "members", "userName"),
        })
        {
            var whole = (await admin.GetFromJsonAsync<JsonElement>($"{path}?limit=1000")).GetProperty(items).EnumerateArray()
                .Select(i => i.GetProperty(name).GetString()).ToList();
            Assert.True(whole.Count >= 2, $"{path} has too few items to page");
            var paged = new List<string?>();
            for (var next = $"{path}?limit=1"; next is not null;)
            {
                var page = await admin.GetFromJsonAsync<JsonElement>(next);
                paged.AddRange(page.GetProperty(items).EnumerateArray().Select(i => i.GetProperty(name).GetString()));
                next = page.GetProperty("next").GetString();
                Assert.True(paged.Count <= whole.Count, $"{path} pages on past its end");
            }
            Assert.Equal(whole, paged);
            await ProblemAssert.ExpectAsync(admin.GetAsync($"{path}?marker={Guid.NewGuid()}"), 400, "invalid_marker");
            await ProblemAssert.ExpectAsync(admin.GetAsync($"{path}?limit=0"), 400, "invalid_limit");
        }

        var newest = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/audit?limit=2")).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
        var first = await admin.GetFromJsonAsync<JsonElement>("identity/v1/audit?limit=1");
        var second = await admin.GetFromJsonAsync<JsonElement>(first.GetProperty("next").GetString());
        Assert.Equal(newest, [first.GetProperty("events")[0].GetProperty("id").GetInt64(), second.GetProperty("events")[0].GetProperty("id").GetInt64()]);
        await ProblemAssert.ExpectAsync(admin.GetAsync("identity/v1/audit?limit=1001"), 400, "invalid_limit");
    }

    [Fact]
    public async Task Quota_shows_a_default_for_every_resource_and_an_admin_override_which_is_published()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        using var reader = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        var a = tenants.ProjectA;

        var quota = await reader.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{a}/quota");
        var lines = quota.GetProperty("resources").EnumerateArray().ToDictionary(l => l.GetProperty("resource").GetString()!);
        string[] resources = ["instances", "cores", "ram_mb", "key_pairs", "server_groups", "images", "image_bytes", "volumes", "gigabytes", "snapshots", "networks", "ports", "floating_ips", "security_groups", "security_group_rules"];
        Assert.Equal(resources.Order(), lines.Keys.Order());
        Assert.Equal(10, lines["instances"].GetProperty("limit").GetInt64());
        Assert.Equal(51200, lines["ram_mb"].GetProperty("limit").GetInt64());

        var quotaChangesBefore = await WaitForAsync(() => Scalar<long>(cloud, QuotaChangesPending), n => n == 0) == 0
            ? Scalar<long>(cloud, QuotaChangesSent)
            : throw new InvalidOperationException("an earlier quota change is still in the outbox");
        (await admin.PutAsJsonAsync($"identity/v1/projects/{a}/quota/instances", new { limit = 3 })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync("identity/v1/quota-defaults/cores", new { limit = 40 })).EnsureSuccessStatusCode();

        quota = await reader.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{a}/quota");
        lines = quota.GetProperty("resources").EnumerateArray().ToDictionary(l => l.GetProperty("resource").GetString()!);
        Assert.Equal(3, lines["instances"].GetProperty("limit").GetInt64());
        Assert.Equal(10, lines["instances"].GetProperty("default").GetInt64());
        Assert.True(lines["instances"].GetProperty("overridden").GetBoolean());
        Assert.Equal(40, lines["cores"].GetProperty("limit").GetInt64());

        // Each change left the module through the outbox as ProjectQuotaChanged.
        var published = await WaitForAsync(() => Scalar<long>(cloud, QuotaChangesSent), n => n == quotaChangesBefore + 2);
        Assert.Equal(quotaChangesBefore + 2, published);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"identity/v1/projects/{a}/quota/instances")).StatusCode);
        quota = await reader.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{a}/quota");
        Assert.Equal(10, quota.GetProperty("resources").EnumerateArray().Single(l => l.GetProperty("resource").GetString() == "instances").GetProperty("limit").GetInt64());
    }

    [Fact]
    public async Task Access_key_secret_is_shown_once_and_stored_encrypted()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        var a = tenants.ProjectA;

        using var created = await member.PostAsync($"identity/v1/projects/{a}/access-keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = key.GetProperty("accessKeyId").GetString()!;
        var secret = key.GetProperty("secretAccessKey").GetString()!;
        Assert.Matches("^AKIA[A-Z2-7]{16}$", id);
        Assert.Equal(40, secret.Length);

        var listed = await member.GetStringAsync($"identity/v1/projects/{a}/access-keys");
        Assert.Contains(id, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        var stored = Scalar<string>(cloud, $"""select "ProtectedSecret" from ec2_access_keys where "AccessKeyId" = '{id}'""");
        Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);

        // Two per user and project, then a clear refusal.
        (await member.PostAsync($"identity/v1/projects/{a}/access-keys", null)).EnsureSuccessStatusCode();
        await ProblemAssert.ExpectAsync(member.PostAsync($"identity/v1/projects/{a}/access-keys", null), 409, "access_key_limit_reached");

        // Another member of the project cannot see or delete it; the owner can.
        using var reader = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        Assert.DoesNotContain(id, await reader.GetStringAsync($"identity/v1/projects/{a}/access-keys"), StringComparison.Ordinal);
        using var adminA = OidcClient.Api(cloud.IdentityUrl, tenants.Token("adminA"));
        Assert.Contains(id, await adminA.GetStringAsync($"identity/v1/projects/{a}/access-keys"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"identity/v1/projects/{a}/access-keys/{id}")).StatusCode);
        await ProblemAssert.ExpectAsync(member.DeleteAsync($"identity/v1/projects/{a}/access-keys/{id}"), 404, "access_key_not_found");
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_lock_the_account_and_everything_is_audited()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        var userName = (await OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA")).GetFromJsonAsync<JsonElement>("identity/v1/users/me")).GetProperty("userName").GetString()!;

        for (var i = 0; i < 5; i++)
        {
            var (tokens, page) = await cloud.Oidc.SignInRawAsync(userName, "wrong password " + i);
            Assert.Null(tokens);
            Assert.Contains(i < 4 ? "Invalid user name or password." : "locked", page, StringComparison.Ordinal);
        }
        // Locked: even the right password is refused now.
        var (locked, lockedPage) = await cloud.Oidc.SignInRawAsync(userName, Tenants.Password);
        Assert.Null(locked);
        Assert.Contains("locked", lockedPage, StringComparison.Ordinal);

        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var audit = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/audit?limit=1000")).GetProperty("events").EnumerateArray().ToList();
        var mine = audit.Where(e => e.GetProperty("target").GetString() == userName).Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(4, mine.Count(a => a == "signin.failed"));
        Assert.Contains("signin.locked_out", mine);
        Assert.Contains("signin.succeeded", mine);
        Assert.All(audit.Where(e => e.GetProperty("action").GetString()!.StartsWith("signin", StringComparison.Ordinal)),
            e => Assert.Equal("127.0.0.1", e.GetProperty("remoteAddress").GetString()));
        Assert.Contains(audit, e => e.GetProperty("action").GetString() == "role.assigned" && e.GetProperty("projectId").GetGuid() == tenants.ProjectA);

        // An admin unlocks it.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"identity/v1/users/{tenants.Id("memberA")}/unlock", null)).StatusCode);
        await cloud.Oidc.SignInAsync(userName, Tenants.Password);
    }

    [Fact]
    public async Task A_user_changes_their_password_and_the_old_one_stops_working()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var me = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        var userName = (await me.GetFromJsonAsync<JsonElement>("identity/v1/users/me")).GetProperty("userName").GetString()!;

        await ProblemAssert.ExpectAsync(me.PostAsJsonAsync("identity/v1/users/me/password", new { currentPassword = "not it at all", newPassword = "a brand new passphrase" }), 400, "wrong_password");
        await ProblemAssert.ExpectAsync(me.PostAsJsonAsync("identity/v1/users/me/password", new { currentPassword = Tenants.Password, newPassword = "short" }), 400, "weak_password");
        Assert.Equal(HttpStatusCode.NoContent, (await me.PostAsJsonAsync("identity/v1/users/me/password", new { currentPassword = Tenants.Password, newPassword = "a brand new passphrase" })).StatusCode);

        Assert.Null((await cloud.Oidc.SignInRawAsync(userName, Tenants.Password)).Tokens);
        await cloud.Oidc.SignInAsync(userName, "a brand new passphrase");
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var audit = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/audit?action=password.changed")).GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("target").GetString() == userName).ToArray();
        Assert.Equal([false, false, true], audit.Reverse().Select(e => e.GetProperty("success").GetBoolean()));
    }

    [Fact]
    public async Task A_cloud_admin_resets_a_password_the_old_one_stops_working_and_a_weak_one_changes_nothing()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var reader = tenants.UserName("readerA");
        var path = $"identity/v1/users/{tenants.Id("readerA")}/password";

        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync(path, new { newPassword = "short" }), 400, "weak_password");
        await cloud.Oidc.SignInAsync(reader, Tenants.Password);   // unchanged by the refusal
        await ProblemAssert.ExpectAsync(admin.PostAsJsonAsync($"identity/v1/users/{Guid.NewGuid()}/password", new { newPassword = "a brand new passphrase" }), 404, "user_not_found");
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync(path, new { newPassword = "a brand new passphrase" })).StatusCode);

        Assert.Null((await cloud.Oidc.SignInRawAsync(reader, Tenants.Password)).Tokens);
        await cloud.Oidc.SignInAsync(reader, "a brand new passphrase");
        var audit = (await admin.GetFromJsonAsync<JsonElement>("identity/v1/audit?action=password.reset")).GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("target").GetString() == reader).ToArray();
        Assert.Equal([false, true], audit.Reverse().Select(e => e.GetProperty("success").GetBoolean()));
    }

    [Fact]
    public async Task A_role_granted_after_sign_in_arrives_with_the_refreshed_token()
    {
        var cloud = fixture.Cloud;
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        var userName = $"late-{Guid.NewGuid():N}"[..12];
        var user = await (await admin.PostAsJsonAsync("identity/v1/users", new { userName, password = Tenants.Password })).Content.ReadFromJsonAsync<JsonElement>();
        var tokens = await cloud.Oidc.SignInAsync(userName, Tenants.Password);
        using (var before = OidcClient.Api(cloud.IdentityUrl, tokens.AccessToken))
            Assert.Equal(HttpStatusCode.NotFound, (await before.GetAsync($"identity/v1/projects/{tenants.ProjectA}/quota")).StatusCode);   // not theirs: it does not exist

        (await admin.PutAsJsonAsync($"identity/v1/projects/{tenants.ProjectA}/members/{user.GetProperty("id").GetGuid()}", new { role = "reader" })).EnsureSuccessStatusCode();

        var refreshed = await cloud.Oidc.RefreshAsync(tokens.RefreshToken!);
        using var after = OidcClient.Api(cloud.IdentityUrl, refreshed.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await after.GetAsync($"identity/v1/projects/{tenants.ProjectA}/quota")).StatusCode);
    }

    private const string QuotaChangesSent =
        """select count(*) from outbox_messages where "MessageType" like 'CloudPortal.Contracts.Identity.ProjectQuotaChanged,%' and "SentAt" is not null""";

    private const string QuotaChangesPending =
        """select count(*) from outbox_messages where "MessageType" like 'CloudPortal.Contracts.Identity.ProjectQuotaChanged,%' and "SentAt" is null""";

    /// <summary>One value from Identity's database, whichever it is (quoted names work in both SQLite and PostgreSQL).</summary>
    private static T Scalar<T>(TestCloud cloud, string sql)
    {
        using DbConnection connection = cloud.Deployment.Postgres is { } postgres
            ? new NpgsqlConnection(postgres.ConnectionString("identity"))
            : new SqliteConnection($"Data Source={Path.Combine(cloud.Deployment.DataDir, "identity.db")};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<T> WaitForAsync<T>(Func<T> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var value = read();
        while (!done(value) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            value = read();
        }
        return value;
    }
}

public sealed class IdentityApiAllInOneTests(AllInOneIdentityCloud cloud) : IdentityApiTests(cloud), IClassFixture<AllInOneIdentityCloud>;

public sealed class IdentityApiDistributedTests(DistributedIdentityCloud cloud) : IdentityApiTests(cloud), IClassFixture<DistributedIdentityCloud>;

/// <summary>One cloud for the tests of a class.</summary>
public abstract class IdentityCloud(string mode) : IAsyncLifetime
{
    public TestCloud Cloud { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Cloud = await TestCloud.StartAsync(mode);

    public async ValueTask DisposeAsync()
    {
        if (Cloud is not null)
            await Cloud.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed class AllInOneIdentityCloud() : IdentityCloud("all-in-one");

public sealed class DistributedIdentityCloud() : IdentityCloud("distributed");
