using CloudPortal.ServiceDefaults.Security.SigV4;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

public sealed class SigV4SignerTests
{
    // AWS's documented example ("Create a signed AWS API request", IAM ListUsers, example credentials):
    // the derived key, the canonical request's hash and the signature are printed in the documentation.
    private const string DocsSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private static readonly SigV4Scope DocsScope = new("20150830", "us-east-1", "iam");

    private static RawRequest DocsListUsers(string signature) => new("GET", "/", "Action=ListUsers&Version=2010-05-08",
    [
        ("Host", "iam.amazonaws.com"),
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={signature}"),
    ], []);

    [Fact]
    public void The_signing_key_is_derived_as_in_AWS_documentation()
    {
        Assert.Equal("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
            Convert.ToHexStringLower(SigV4Signer.DeriveSigningKey(DocsSecret, DocsScope)));
    }

    [Fact]
    public void AWS_documentation_example_request_verifies()
    {
        const string signature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        var request = DocsListUsers(signature).ParseOk();

        Assert.Equal("""
            AWS4-HMAC-SHA256
            20150830T123600Z
            20150830/us-east-1/iam/aws4_request
            f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59
            """, request.StringToSign);
        Assert.Equal(signature, SigV4Signer.ComputeSignature(DocsSecret, DocsScope, request.StringToSign));
        Assert.Null(request.Verify(DocsSecret));
    }

    [Fact]
    public void Every_part_of_the_scope_changes_the_signing_key()
    {
        var keys = new[]
        {
            DocsScope, new SigV4Scope("20150831", "us-east-1", "iam"), new SigV4Scope("20150830", "us-east-2", "iam"),
            new SigV4Scope("20150830", "us-east-1", "ec2"),
        }.Select(scope => Convert.ToHexString(SigV4Signer.DeriveSigningKey(DocsSecret, scope))).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void Scope_round_trips_through_its_text_form()
    {
        Assert.True(SigV4Scope.TryParse("20150830/cp-1/ec2/aws4_request", out var scope));
        Assert.Equal(new SigV4Scope("20150830", "cp-1", "ec2"), scope);
        Assert.Equal("20150830/cp-1/ec2/aws4_request", scope.ToString());
        Assert.False(SigV4Scope.TryParse("20150830/cp-1/ec2", out _));
        Assert.False(SigV4Scope.TryParse("2015-08-30/cp-1/ec2/aws4_request", out _));
        Assert.False(SigV4Scope.TryParse("20150830//ec2/aws4_request", out _));
        Assert.False(SigV4Scope.TryParse(null, out _));
    }

    // The comparison is CryptographicOperations.FixedTimeEquals over the decoded bytes; what a test can
    // observe is its behaviour: a difference anywhere is a rejection, hex case does not matter, and no
    // malformed signature throws or passes.
    [Fact]
    public void Verify_accepts_only_the_exact_signature_bytes()
    {
        var request = DocsListUsers(new string('0', 64)).ParseOk();
        var good = SigV4Signer.ComputeSignature(DocsSecret, DocsScope, request.StringToSign);
        static string Flip(string hex, int at) => hex[..at] + (hex[at] == '0' ? '1' : '0') + hex[(at + 1)..];

        Assert.True(SigV4Signer.Verify(DocsSecret, request.StringToSign, DocsScope, good));
        Assert.True(SigV4Signer.Verify(DocsSecret, request.StringToSign, DocsScope, good.ToUpperInvariant()));
        for (var at = 0; at < 64; at++)
        {
            Assert.False(SigV4Signer.Verify(DocsSecret, request.StringToSign, DocsScope, Flip(good, at)), $"differs at {at}");
        }
        foreach (var malformed in new[] { "", good[..63], good + "0", good[..62] + "zz", good[..32], new string(' ', 64), null! })
        {
            Assert.False(SigV4Signer.Verify(DocsSecret, request.StringToSign, DocsScope, malformed));
        }
    }

    [Fact]
    public void Verify_refuses_a_scope_other_than_the_one_in_the_string_to_sign()
    {
        var request = DocsListUsers(new string('0', 64)).ParseOk();
        var otherScope = new SigV4Scope("20150830", "us-east-2", "iam");
        var signedWithOtherScope = SigV4Signer.ComputeSignature(DocsSecret, otherScope, request.StringToSign);

        Assert.False(SigV4Signer.Verify(DocsSecret, request.StringToSign, otherScope, signedWithOtherScope));
        Assert.False(SigV4Signer.Verify(DocsSecret, "not a string to sign", DocsScope, new string('0', 64)));
    }

    [Fact]
    public void Verify_with_the_wrong_secret_is_false()
    {
        var request = DocsListUsers("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7").ParseOk();

        Assert.False(SigV4Signer.Verify(DocsSecret + "x", request.StringToSign, DocsScope, request.Signature));
        Assert.False(SigV4Signer.Verify("", request.StringToSign, DocsScope, request.Signature));
        Assert.Equal(SigV4ErrorCodes.AuthFailure, request.Verify("wrong")?.Code);
    }
}
