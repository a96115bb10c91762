using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Security.SigV4;
using Security = CloudPortal.ServiceDefaults.Security;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// The EC2 signature check as the EC2 API module will use it: botocore signs a request, our SigV4 code
/// builds its string to sign, and the Identity process — over the real RabbitMQ — checks it against the
/// stored (encrypted) secret.
/// </summary>
public sealed class Ec2SignatureTests
{
    [Fact]
    public async Task A_botocore_signed_request_is_verified_by_identity_over_the_bus_and_forgeries_are_refused()
    {
        await using var cloud = await TestCloud.StartAsync("distributed");
        var tenants = await Tenants.CreateAsync(cloud);
        using var member = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberA"));
        var key = await (await member.PostAsync($"identity/v1/projects/{tenants.ProjectA}/access-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var accessKeyId = key.GetProperty("accessKeyId").GetString()!;
        var secret = key.GetProperty("secretAccessKey").GetString()!;

        await using var bus = await TestBus.StartAsync(cloud.Deployment.RabbitMq!.Uri());

        var good = await SignWithBotocoreAsync(accessKeyId, secret);
        var verified = await bus.VerifyAsync(Request(good));
        var ok = Assert.IsType<Ec2SignatureVerified>(verified);
        Assert.Equal(tenants.Id("memberA"), ok.UserId);
        Assert.Equal(tenants.ProjectA, ok.ProjectId);
        Assert.Equal("member", ok.Role);
        Assert.False(ok.CloudAdmin);

        // Signed with another secret, an unknown key, a string to sign that is not what was signed.
        AssertRejected(await bus.VerifyAsync(Request(await SignWithBotocoreAsync(accessKeyId, secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')))), "AuthFailure");
        AssertRejected(await bus.VerifyAsync(Request(await SignWithBotocoreAsync("AKIAUNKNOWNUNKNOWNXX", secret))), "AuthFailure");
        AssertRejected(await bus.VerifyAsync(Request(good) with { StringToSign = Request(good).StringToSign.Replace("ec2", "iam", StringComparison.Ordinal) }), "AuthFailure");

        // Correctly signed but 20 minutes old: AWS's 15-minute window.
        var scope = new SigV4Scope(DateTime.UtcNow.AddMinutes(-20).ToString("yyyyMMdd"), "cp-1", "ec2");
        var signedAt = DateTimeOffset.UtcNow.AddMinutes(-20);
        var stale = SigV4Signer.BuildStringToSign(signedAt.ToString("yyyyMMdd'T'HHmmss'Z'"), scope, "GET\n/\n\nhost:127.0.0.1\n\nhost\n" + SigV4Signer.EmptyPayloadHash);
        AssertRejected(await bus.VerifyAsync(new VerifyEc2Signature(accessKeyId, stale, SigV4Signer.ComputeSignature(secret, scope, stale), scope.ToString(), null)), "RequestExpired");

        // An expiry beyond AWS's seven days, or a scope beside the signature that is not the one it covers, is refused.
        var replayed = new VerifyEc2Signature(accessKeyId, stale, SigV4Signer.ComputeSignature(secret, scope, stale), scope.ToString(), TimeSpan.FromSeconds(SigV4Request.MaxExpiresSeconds + 1));
        AssertRejected(await bus.VerifyAsync(replayed), "AuthFailure");
        AssertRejected(await bus.VerifyAsync(Request(good) with { Scope = new SigV4Scope(DateTime.UtcNow.ToString("yyyyMMdd"), "other-1", "ec2").ToString() }), "AuthFailure");

        // ADR 0012: the EC2 API's client trades a verified signature for a short token of the key's owner, holding the
        // role in the key's project and no other; without its secret, as another client, or with a forgery: refused.
        var ec2Secret = (await File.ReadAllTextAsync(Path.Combine(cloud.Deployment.DataDir, Ec2Tokens.SecretFileName), TestContext.Current.CancellationToken)).Trim();
        var token = await cloud.Oidc.TokenAsync(Ec2Grant(good, Ec2Tokens.ClientId, ec2Secret));
        var claims = JwtPayload(token.AccessToken);
        Assert.Equal(tenants.Id("memberA").ToString(), claims.GetProperty("sub").GetString());
        Assert.Equal([$"{tenants.ProjectA}:member"], ProjectRoles(claims));
        Assert.InRange(claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64(), 60, 300);
        using (var asKeyOwner = OidcClient.Api(cloud.IdentityUrl, token.AccessToken))
            Assert.Equal(System.Net.HttpStatusCode.OK, (await asKeyOwner.GetAsync($"identity/v1/projects/{tenants.ProjectA}/quota", TestContext.Current.CancellationToken)).StatusCode);
        await AssertTokenRefusedAsync(cloud, Ec2Grant(good, Ec2Tokens.ClientId, "not-the-secret"), "invalid_client");
        await AssertTokenRefusedAsync(cloud, Ec2Grant(good, OidcClient.ServiceClient, cloud.ServiceSecret), "unauthorized_client");
        await AssertTokenRefusedAsync(cloud, Ec2Grant(await SignWithBotocoreAsync(accessKeyId, secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A')), Ec2Tokens.ClientId, ec2Secret), "invalid_grant");

        // The key acts with its owner's role now: once the role is revoked, the same good signature fails.
        using var admin = OidcClient.Api(cloud.IdentityUrl, tenants.AdminToken);
        (await admin.DeleteAsync($"identity/v1/projects/{tenants.ProjectA}/members/{tenants.Id("memberA")}")).EnsureSuccessStatusCode();
        AssertRejected(await bus.VerifyAsync(Request(await SignWithBotocoreAsync(accessKeyId, secret))), "AuthFailure");
    }

    private static Dictionary<string, string> Ec2Grant(SigV4Request signed, string clientId, string clientSecret) => new()
    {
        ["grant_type"] = Ec2Tokens.GrantType,
        ["client_id"] = clientId,
        ["client_secret"] = clientSecret,
        ["scope"] = "cloudportal",
        [Ec2Tokens.AccessKeyIdParameter] = signed.AccessKeyId,
        [Ec2Tokens.StringToSignParameter] = signed.StringToSign,
        [Ec2Tokens.SignatureParameter] = signed.Signature,
        [Ec2Tokens.ScopeParameter] = signed.Scope.ToString(),
    };

    private static async Task AssertTokenRefusedAsync(TestCloud cloud, Dictionary<string, string> form, string error)
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => cloud.Oidc.TokenAsync(form));
        Assert.Matches($"\"error\":\\s*\"{error}\"", refused.Message);
    }

    private static JsonElement JwtPayload(string jwt)
    {
        var payload = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        return JsonDocument.Parse(Convert.FromBase64String(payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '='))).RootElement;
    }

    private static List<string> ProjectRoles(JsonElement claims) => !claims.TryGetProperty(Security.CloudClaims.ProjectRole, out var roles) ? []
        : roles.ValueKind == JsonValueKind.Array ? roles.EnumerateArray().Select(r => r.GetString()!).ToList() : [roles.GetString()!];

    private static void AssertRejected(object response, string code)
    {
        var rejected = Assert.IsType<Ec2SignatureRejected>(response);
        Assert.Equal(code, rejected.Code);
    }

    private static VerifyEc2Signature Request(SigV4Request signed) =>
        new(signed.AccessKeyId, signed.StringToSign, signed.Signature, signed.Scope.ToString(), signed.ExpiresIn);

    /// <summary>An EC2 DescribeInstances POST signed now by botocore, parsed by our SigV4 code as the EC2 API will.</summary>
    private static async Task<SigV4Request> SignWithBotocoreAsync(string accessKeyId, string secret)
    {
        if (!File.Exists("/usr/bin/python3"))
            TestEnvironment.Unavailable("Debian's python3 with boto3", "install python3-boto3");
        var python = await ChildProcess.RunAsync("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "botocore_sign.py"), "describe-instances",
            "--endpoint", "http://127.0.0.1:8788", "--access-key", accessKeyId, "--secret", secret, "--region", "cp-1"], TimeSpan.FromSeconds(60));
        var (output, errors) = (python.StandardOutput, python.StandardError);
        if (python.ExitCode != 0 && errors.Contains("No module named", StringComparison.Ordinal))
            TestEnvironment.Unavailable("boto3 for /usr/bin/python3", errors.Trim());
        Assert.True(python.ExitCode == 0, errors);

        var json = JsonDocument.Parse(output).RootElement;
        var url = new Uri(json.GetProperty("url").GetString()!);
        var headers = json.GetProperty("headers").EnumerateArray()
            .Select(h => new KeyValuePair<string, StringValues>(h[0].GetString()!, h[1].GetString()!)).ToList();
        var parsed = SigV4Request.Parse(json.GetProperty("method").GetString()!, url.AbsolutePath, url.Query.TrimStart('?'), headers,
            Encoding.UTF8.GetBytes(json.GetProperty("body").GetString() ?? ""));
        Assert.True(parsed.Succeeded, parsed.Error?.Message);
        return parsed.Request!;
    }

    /// <summary>The test's own bus endpoint on the deployment's RabbitMQ virtual host: it plays the EC2 API module.</summary>
    private sealed class TestBus : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private TestBus(ServiceProvider services) => _services = services;

        public static async Task<TestBus> StartAsync(string rabbitMqUri)
        {
            var services = new ServiceCollection();
            services.AddMassTransit(bus =>
            {
                bus.AddRequestClient<VerifyEc2Signature>(RequestTimeout.After(s: 30));
                bus.UsingRabbitMq((_, cfg) => cfg.Host(new Uri(rabbitMqUri)));
            });
            var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<IBusControl>().StartAsync(TestContext.Current.CancellationToken);
            return new TestBus(provider);
        }

        public async Task<object> VerifyAsync(VerifyEc2Signature request)
        {
            var client = _services.GetRequiredService<IRequestClient<VerifyEc2Signature>>();
            var response = await client.GetResponse<Ec2SignatureVerified, Ec2SignatureRejected>(request);
            if (response.Is(out Response<Ec2SignatureVerified>? verified))
                return verified!.Message;
            return response.Is(out Response<Ec2SignatureRejected>? rejected) ? rejected!.Message : throw new InvalidOperationException("unexpected response");
        }

        public async ValueTask DisposeAsync()
        {
            await _services.GetRequiredService<IBusControl>().StopAsync();
            await _services.DisposeAsync();
        }
    }
}
