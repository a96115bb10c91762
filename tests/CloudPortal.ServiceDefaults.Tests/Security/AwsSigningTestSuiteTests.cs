using System.Text;
using System.Text.Json;
using CloudPortal.ServiceDefaults.Security.SigV4;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

/// <summary>
/// AWS's published SigV4 test suite (the <c>v4</c> vectors of awslabs/aws-c-auth
/// <c>tests/aws-signing-test-suite</c>, Apache-2.0): each vector gives a request signed in the Authorization
/// header and the same request presigned in the query, with the expected canonical request, string to sign
/// and signature of both. See aws4_testsuite/README.md for where the files are looked for.
/// </summary>
public sealed class AwsSigningTestSuiteTests
{
    /// <summary>Every vector of the suite that applies to a non-S3 service such as EC2.</summary>
    private static readonly string[] Applicable =
    [
        "get-header-key-duplicate", "get-header-value-multiline", "get-header-value-order", "get-header-value-trim",
        "get-relative-normalized", "get-relative-relative-normalized", "get-slash-dot-slash-normalized",
        "get-slash-normalized", "get-slash-pointless-dot-normalized", "get-slashes-normalized", "get-space-normalized",
        "get-unreserved", "get-utf8", "get-vanilla", "get-vanilla-empty-query-key", "get-vanilla-query",
        "get-vanilla-query-order-encoded", "get-vanilla-query-order-key-case", "get-vanilla-query-unreserved",
        "get-vanilla-utf8-query", "get-vanilla-with-session-token", "post-header-key-case", "post-header-key-sort",
        "post-header-value-case", "post-sts-header-after", "post-sts-header-before", "post-vanilla",
        "post-vanilla-empty-query-value", "post-vanilla-query", "post-x-www-form-urlencoded",
        "post-x-www-form-urlencoded-parameters",
    ];

    /// <summary>Vectors (or one form of a vector) left out, each with the reason.</summary>
    private static readonly Dictionary<string, string> NotApplicable = new()
    {
        // "normalize": false is S3's rule (the path is signed as sent). Every other service, EC2 included,
        // removes dot segments and repeated slashes first; the *-normalized twins of these run instead.
        ["get-relative-unnormalized"] = "S3-only: path not normalized",
        ["get-relative-relative-unnormalized"] = "S3-only: path not normalized",
        ["get-slash-dot-slash-unnormalized"] = "S3-only: path not normalized",
        ["get-slash-pointless-dot-unnormalized"] = "S3-only: path not normalized",
        ["get-slash-unnormalized"] = "S3-only: path not normalized",
        ["get-slashes-unnormalized"] = "S3-only: path not normalized",
        ["get-space-unnormalized"] = "S3-only: path not normalized",
        // "omit_session_token": the signer appends X-Amz-Security-Token to the query *after* signing (a
        // client option for a few services). A verifier signs every query parameter it receives, so no
        // server can check that form; its header form (token header present but unsigned) runs.
        ["post-sts-header-after/query"] = "token added to the query after signing; not verifiable server-side",
    };

    private static List<(string Vector, string Form)> Vectors()
    {
        var data = new List<(string, string)>();
        foreach (var vector in Applicable)
        {
            foreach (var form in new[] { "header", "query" })
            {
                if (!NotApplicable.ContainsKey($"{vector}/{form}"))
                {
                    data.Add((vector, form));
                }
            }
        }
        return data;
    }

    /// <summary>
    /// AWS's documented example always runs (the signing key, string to sign and signature AWS prints);
    /// the whole suite runs as well wherever a copy is provided (see aws4_testsuite/README.md). Never skipped.
    /// </summary>
    [Fact]
    public void AWS_published_signature_vectors_pass()
    {
        const string docsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        var docsScope = new SigV4Scope("20150830", "us-east-1", "iam");
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
            Convert.ToHexStringLower(SigV4Signer.DeriveSigningKey(docsSecret, docsScope)));
        Assert.Equal("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7", SigV4Signer.ComputeSignature(docsSecret, docsScope, """
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/iam/aws4_request
            f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
            """));

        if (AwsSigningTestSuite.Locate() is not { } suite)
        {
            // Under CI the vectors are part of the test data: missing, they fail the test rather than shrink it.
            Assert.False(TestEnvironment.IsCi, $"AWS's signing test suite is missing. {AwsSigningTestSuite.Hint}");
            TestContext.Current.SendDiagnosticMessage($"Ran AWS's documented example only. {AwsSigningTestSuite.Hint}");
            return;
        }
        var present = Directory.GetDirectories(suite).Select(static d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList();
        var accounted = Applicable.Concat(NotApplicable.Keys.Where(static k => !k.Contains('/', StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(accounted, present);
        foreach (var (vector, form) in Vectors())
            CheckVector(Path.Combine(suite, vector), form);
    }

    [Theory]
    [InlineData("AWS4-HMAC-SHA256\n20150830T123600Z\n20150829/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")]
    [InlineData("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request")]
    [InlineData("AWS4-HMAC-SHA1\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")]
    [InlineData("AWS4-HMAC-SHA256\n2015-08-30T12:36:00Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")]
    [InlineData("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d")]
    public void A_string_to_sign_whose_date_scope_or_shape_is_wrong_is_not_read(string stringToSign)
    {
        Assert.False(SigV4Signer.TryReadStringToSign(stringToSign, out _, out _));
    }

    private static void CheckVector(string dir, string form)
    {
        var context = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "context.json"))).RootElement;
        var credentials = context.GetProperty("credentials");
        var secret = credentials.GetProperty("secret_access_key").GetString()!;
        Assert.True(context.GetProperty("normalize").GetBoolean(), "only normalizing vectors apply to non-S3 services");

        var request = RawRequest.FromHttpText(File.ReadAllBytes(Path.Combine(dir, $"{form}-signed-request.txt"))).ParseOk();

        Assert.Equal(Read(dir, $"{form}-canonical-request.txt"), request.CanonicalRequest);
        Assert.Equal(Read(dir, $"{form}-string-to-sign.txt"), request.StringToSign);
        var signature = Read(dir, $"{form}-signature.txt").Trim();
        Assert.Equal(signature, SigV4Signer.ComputeSignature(secret, request.Scope, request.StringToSign));
        Assert.Equal(signature, request.Signature);
        Assert.Null(request.Verify(secret));
        Assert.Equal(SigV4ErrorCodes.AuthFailure, request.Verify(secret + "x")?.Code);

        Assert.Equal(credentials.GetProperty("access_key_id").GetString(), request.AccessKeyId);
        Assert.Equal(context.GetProperty("region").GetString(), request.Scope.Region);
        Assert.Equal(context.GetProperty("service").GetString(), request.Scope.Service);
        var timestamp = context.GetProperty("timestamp").GetDateTimeOffset();
        Assert.Equal(timestamp, request.SignedAt);
        Assert.Null(request.CheckTime(timestamp));
        // What a verifier that sees only the string to sign reads back: the same date and scope.
        Assert.True(SigV4Signer.TryReadStringToSign(request.StringToSign, out var readAt, out var readScope));
        Assert.Equal((timestamp, request.Scope), (readAt, readScope!));

        if (form == "header")
        {
            Assert.Equal(SigV4AuthLocation.Header, request.Location);
            var authorization = RawRequest.FromHttpText(File.ReadAllBytes(Path.Combine(dir, "header-signed-request.txt"))).Header("Authorization");
            Assert.Equal(authorization,
                $"{SigV4Signer.Algorithm} Credential={request.Credential}, SignedHeaders={string.Join(';', request.SignedHeaders)}, Signature={signature}");
        }
        else
        {
            Assert.Equal(SigV4AuthLocation.Query, request.Location);
            Assert.Equal(TimeSpan.FromSeconds(context.GetProperty("expiration_in_seconds").GetInt32()), request.ExpiresIn);
        }

        var omitsToken = context.TryGetProperty("omit_session_token", out var omit) && omit.GetBoolean();
        if (credentials.TryGetProperty("token", out var token) && !omitsToken)
        {
            Assert.Equal(token.GetString(), request.SecurityToken);
        }
    }

    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file), Encoding.UTF8);
}

/// <summary>Finds the suite: an explicit directory, a copy next to the tests, or the shared folder beside the repository.</summary>
internal static class AwsSigningTestSuite
{
    public const string EnvironmentVariable = "CLOUDPORTAL_AWS4_TESTSUITE";

    public const string Hint =
        $"Put the v4 vectors of awslabs/aws-c-auth tests/aws-signing-test-suite (one folder per vector: context.json, " +
        $"header-*.txt, query-*.txt) in shared/testdata/aws4_testsuite/ beside the repository, or point {EnvironmentVariable} at such a folder.";

    public static string? Locate()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } explicitDir)
        {
            candidates.Add(explicitDir);
        }
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "Security", "aws4_testsuite"));
        for (var dir = Directory.GetParent(TestEnvironment.RepositoryRoot); dir is not null; dir = dir.Parent)
        {
            candidates.Add(Path.Combine(dir.FullName, "shared", "testdata", "aws4_testsuite"));
        }
        return candidates.FirstOrDefault(static c => File.Exists(Path.Combine(c, "get-vanilla", "context.json")));
    }
}
