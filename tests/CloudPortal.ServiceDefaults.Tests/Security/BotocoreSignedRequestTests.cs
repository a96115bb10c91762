using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CloudPortal.ServiceDefaults.Security.SigV4;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

/// <summary>
/// Requests signed by botocore (the signer inside boto3 and the AWS CLI), checked by our verifier: the
/// independent implementation that most EC2 callers will actually use.
/// </summary>
public sealed class BotocoreSignedRequestTests
{
    private const string AccessKeyId = "AKIDCLOUDPORTALTEST";
    private const string Secret = "test-secret/with+odd=chars";
    private const string Endpoint = "http://127.0.0.1:8788";

    [Fact]
    public void A_DescribeInstances_POST_signed_by_botocore_now_verifies_with_the_secret()
    {
        var (request, json) = Botocore.Sign("describe-instances", "--endpoint", Endpoint, "--access-key", AccessKeyId, "--secret", Secret, "--region", "cp-1");
        var parsed = request.ParseOk(new SigV4ParseOptions { ExpectedService = "ec2" });

        Assert.Equal(SigV4AuthLocation.Header, parsed.Location);
        Assert.Equal(AccessKeyId, parsed.AccessKeyId);
        Assert.Equal(new SigV4Scope(parsed.AmzDate[..8], "cp-1", "ec2"), parsed.Scope);
        Assert.Equal(["content-type", "host", "x-amz-date"], parsed.SignedHeaders);
        Assert.Equal(SigV4Signer.HexSha256("Action=DescribeInstances&Version=2016-11-15"), parsed.PayloadHash);
        Assert.Null(parsed.CheckTime(DateTimeOffset.UtcNow));
        Assert.True(parsed.Verify(Secret) is null, $"botocore {json.GetProperty("botocore")} signature rejected; canonical request:\n{parsed.CanonicalRequest}");
    }

    [Fact]
    public void A_botocore_request_checked_with_the_wrong_secret_is_AuthFailure()
    {
        var (request, _) = Botocore.Sign("describe-instances", "--endpoint", Endpoint, "--access-key", AccessKeyId, "--secret", Secret);

        var error = request.ParseOk().Verify("not-the-secret");

        Assert.Equal(SigV4ErrorCodes.AuthFailure, error?.Code);
        Assert.Equal(401, error?.HttpStatus);
    }

    [Fact]
    public void A_botocore_request_whose_body_was_changed_in_flight_is_AuthFailure()
    {
        var (request, _) = Botocore.Sign("describe-instances", "--endpoint", Endpoint, "--access-key", AccessKeyId, "--secret", Secret);
        var tampered = request with { Body = Encoding.UTF8.GetBytes("Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0") };

        Assert.Null(request.ParseOk().Verify(Secret));
        Assert.Equal(SigV4ErrorCodes.AuthFailure, tampered.ParseOk().Verify(Secret)?.Code);
    }

    [Fact]
    public void A_URL_presigned_by_botocore_verifies_until_it_expires()
    {
        var (request, _) = Botocore.Sign("presign", "--endpoint", Endpoint, "--access-key", AccessKeyId, "--secret", Secret, "--expires", "300");
        var parsed = request.ParseOk();

        Assert.Equal(SigV4AuthLocation.Query, parsed.Location);
        Assert.Equal(["host"], parsed.SignedHeaders);
        Assert.Equal(TimeSpan.FromSeconds(300), parsed.ExpiresIn);
        Assert.Null(parsed.Verify(Secret));
        Assert.Equal(SigV4ErrorCodes.AuthFailure, parsed.Verify("not-the-secret")?.Code);
        Assert.Null(parsed.CheckTime(parsed.SignedAt.AddSeconds(300)));
        Assert.Equal(SigV4ErrorCodes.RequestExpired, parsed.CheckTime(parsed.SignedAt.AddSeconds(301))?.Code);

        var otherAction = request with { Query = request.Query!.Replace("Action=DescribeInstances", "Action=TerminateInstances", StringComparison.Ordinal) };
        Assert.Equal(SigV4ErrorCodes.AuthFailure, otherAction.ParseOk().Verify(Secret)?.Code);
    }

    /// <summary>
    /// Inputs written for this project (not taken from the AWS suite) covering the same rules; botocore signs
    /// each at a fixed time and reports its own canonical request and string to sign, which ours must equal.
    /// botocore signs a URL's query exactly as written, so the inputs use only the canonical %XX (uppercase)
    /// spelling a client produces; our normalization of other spellings is pinned by SigV4CanonicalTests.
    /// </summary>
    private static readonly Dictionary<string, object> Cases = new()
    {
        ["vanilla-get"] = Case("GET", "/"),
        ["query-sorted-by-name-then-value"] = Case("GET", "/?b=2&a=2&a=1&A=3&a-=0"),
        ["query-empty-and-missing-values"] = Case("GET", "/?flag&empty=&x=%2F%20~"),
        ["query-utf8"] = Case("GET", "/?name=%E1%88%B4&%C3%A9=x"),
        ["path-double-encoded"] = Case("GET", "/example%20space/%E1%88%B4"),
        ["path-dot-segments-and-slashes"] = Case("GET", "//a/./b/../c//"),
        ["path-dot-dot-above-root"] = Case("GET", "/../a/.."),
        ["headers-trimmed-repeated-and-case-folded"] = Case("GET", "/", headers:
            [["My-Header1", "  a   b  "], ["my-header1", "c"], ["X-Quoted", "\"x   y\""], ["mY-hEaDeR2", "VaLuE"]]),
        ["form-post"] = Case("POST", "/", body: "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=web%20server",
            headers: [["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]]),
        ["form-post-with-content-sha256"] = Case("POST", "/", body: "Action=DescribeRegions&Version=2016-11-15",
            headers: [["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"],
                ["X-Amz-Content-SHA256", SigV4Signer.HexSha256("Action=DescribeRegions&Version=2016-11-15")]]),
        ["session-token"] = Case("POST", "/", body: "Action=DescribeRegions&Version=2016-11-15", token: "FQoGZXIvYXdzEXAMPLE//token+/="),
        ["presigned-get"] = Case("GET", "/?Action=DescribeRegions&Version=2016-11-15", presign: true),
        ["presigned-get-with-token"] = Case("GET", "/?Action=DescribeRegions&Version=2016-11-15", presign: true, token: "FQoGZXIvYXdzEXAMPLE//token+/="),
        ["presigned-on-a-path"] = Case("GET", "/prefix/ec2/?Action=DescribeRegions&Version=2016-11-15", presign: true),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Our_canonical_request_and_string_to_sign_equal_botocores(string name)
    {
        var signed = Botocore.SignCases(Cases)[name];
        var (path, query) = RawRequest.SplitUrl(signed.GetProperty("url").GetString()!);
        var request = new RawRequest(signed.GetProperty("method").GetString()!, path, query, Botocore.Headers(signed),
            Encoding.UTF8.GetBytes(signed.GetProperty("body").GetString()!));

        var parsed = request.ParseOk();

        Assert.Equal(signed.GetProperty("canonical_request").GetString(), parsed.CanonicalRequest);
        Assert.Equal(signed.GetProperty("string_to_sign").GetString(), parsed.StringToSign);
        Assert.Null(parsed.Verify(Secret));
    }

    private static object Case(string method, string target, string body = "", string[][]? headers = null, bool presign = false, string? token = null) => new
    {
        method,
        url = "http://ec2.cp.test:8788" + target,
        headers = headers ?? [],
        body,
        presign,
        expires = 600,
        token,
        timestamp = TestSigner.AmzDate,
        access_key = AccessKeyId,
        secret = Secret,
        region = "cp-1",
        service = "ec2",
    };

    /// <summary>Runs Security/botocore_sign.py with Debian's interpreter.</summary>
    private static class Botocore
    {
        private const string Python = "/usr/bin/python3";
        private static readonly Lazy<string?> Missing = new(FindMissing);
        private static readonly Lock SignedLock = new();
        private static Dictionary<string, JsonElement>? signedCases;

        public static (RawRequest Request, JsonElement Json) Sign(params string[] args)
        {
            var json = JsonDocument.Parse(Run("", args)).RootElement;
            var (path, query) = RawRequest.SplitUrl(json.GetProperty("url").GetString()!);
            return (new RawRequest(json.GetProperty("method").GetString()!, path, query, Headers(json),
                Encoding.UTF8.GetBytes(json.GetProperty("body").GetString()!)), json);
        }

        /// <summary>All cases in one interpreter start; the result is shared by the theory's rows.</summary>
        public static Dictionary<string, JsonElement> SignCases(Dictionary<string, object> cases)
        {
            lock (SignedLock)
            {
                if (signedCases is null)
                {
                    var input = JsonSerializer.Serialize(cases.Select(static c => WithName(c.Key, c.Value)));
                    signedCases = JsonDocument.Parse(Run(input, "cases")).RootElement.EnumerateArray()
                        .ToDictionary(static e => e.GetProperty("name").GetString()!);
                }
                return signedCases;
            }

            static Dictionary<string, object?> WithName(string name, object spec)
            {
                var fields = JsonSerializer.SerializeToElement(spec).EnumerateObject()
                    .ToDictionary(static p => p.Name, static p => (object?)p.Value);
                fields["name"] = name;
                return fields;
            }
        }

        public static List<(string Name, string Value)> Headers(JsonElement json) =>
            [.. json.GetProperty("headers").EnumerateArray().Select(static h => (h[0].GetString()!, h[1].GetString()!))];

        private static string Run(string stdin, params string[] args)
        {
            if (Missing.Value is { } missing)
            {
                var message = $"{missing}: install python3-boto3 (apt-get install -y python3-boto3; deploy/dev/start-services.sh installs it).";
                if (TestEnvironment.IsCi)
                {
                    Assert.Fail(message);
                }
                Assert.Skip(message);
            }
            var script = Path.Combine(AppContext.BaseDirectory, "Security", "botocore_sign.py");
            var (exitCode, stdout, stderr) = Execute([script, .. args], stdin);
            Assert.True(exitCode == 0, $"botocore_sign.py {string.Join(' ', args)} exited {exitCode}:\n{stderr}");
            return stdout;
        }

        private static string? FindMissing()
        {
            if (!File.Exists(Python))
            {
                return $"{Python} is missing";
            }
            var (exitCode, _, stderr) = Execute(["-c", "import boto3, botocore.auth"], "");
            return exitCode == 0 ? null : $"{Python} cannot import boto3/botocore ({stderr.Trim().Split('\n')[^1]})";
        }

        private static (int ExitCode, string Stdout, string Stderr) Execute(string[] args, string stdin)
        {
            var start = new ProcessStartInfo(Python)
            {
                RedirectStandardInput = true,
                StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment["PYTHONIOENCODING"] = "utf-8";
            start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

            // Synchronous for its callers (a Lazy among them).
            var result = ChildProcess.RunAsync(start, TimeSpan.FromSeconds(60), stdin).GetAwaiter().GetResult();
            return (result.ExitCode, result.StandardOutput, result.StandardError);
        }
    }
}
