using CloudPortal.ServiceDefaults.Security.SigV4;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests.Security;

public sealed class SigV4CanonicalTests
{
    [Theory]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("/prefix/", "/prefix/")]
    [InlineData("//a//b//", "/a/b/")]
    [InlineData("/a/./b/../c", "/a/c")]
    [InlineData("/a/b/..", "/a")]
    [InlineData("/../..", "/")]
    [InlineData("/a%20b", "/a%2520b")] // a client encodes its already-encoded path once more
    [InlineData("/a b", "/a%20b")]
    [InlineData("/%2F/x", "/%252F/x")]
    [InlineData("/ሴ", "/%E1%88%B4")]
    [InlineData("/-._~AZaz09!$'()*+,;=:@", "/-._~AZaz09%21%24%27%28%29%2A%2B%2C%3B%3D%3A%40")]
    public void The_canonical_URI_is_normalized_then_encoded(string rawPath, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.CanonicalUri(rawPath));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("", "")]
    [InlineData("?", "")]
    [InlineData("b=2&a=1", "a=1&b=2")]
    [InlineData("?a=2&a=1&A=0", "A=0&a=1&a=2")]
    [InlineData("a-=1&a=2", "a=2&a-=1")] // ordinal on the encoded names: '=' is not compared, "a" < "a-"
    [InlineData("flag&empty=", "empty=&flag=")]
    [InlineData("&&a=1&", "a=1")]
    [InlineData("a=x+y", "a=x%2By")] // '+' is a literal plus in a URL query, not a space
    [InlineData("a=x%20y", "a=x%20y")]
    [InlineData("a=%2f%7e", "a=%2F~")] // re-encoded: uppercase hex, unreserved characters plain
    [InlineData("a=%zz&b=%", "a=%25zz&b=%25")]
    [InlineData("ሴ=é", "%E1%88%B4=%C3%A9")]
    [InlineData("a==b", "a=%3Db")]
    public void The_canonical_query_is_decoded_re_encoded_and_sorted(string? rawQuery, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.CanonicalQuery(rawQuery));
    }

    [Fact]
    public void A_presigned_query_leaves_out_its_own_signature()
    {
        Assert.Equal("X-Amz-Date=1&a=1", SigV4Canonical.CanonicalQuery("a=1&X-Amz-Signature=abc&X-Amz-Date=1", excludeSignature: true));
        Assert.Equal("X-Amz-Signature=abc&a=1", SigV4Canonical.CanonicalQuery("a=1&X-Amz-Signature=abc"));
    }

    [Theory]
    [InlineData("value", "value")]
    [InlineData("  value1  ", "value1")]
    [InlineData("\"a   b   c\"", "\"a b c\"")]
    [InlineData("a\t \tb", "a b")]
    [InlineData("value1\n  value2\n     value3", "value1 value2 value3")]
    [InlineData("   ", "")]
    public void Header_values_are_trimmed_and_inner_whitespace_collapsed(string value, string expected)
    {
        Assert.Equal(expected, SigV4Canonical.TrimAll(value));
    }

    [Fact]
    public void The_canonical_request_has_AWS_layout_with_repeated_headers_joined_by_commas()
    {
        var body = "Action=DescribeInstances&Version=2016-11-15"u8.ToArray();
        var request = TestSigner.SignHeader(new RawRequest("post", "/", null,
            [
                ("Host", "127.0.0.1:8788"), ("X-Amz-Date", TestSigner.AmzDate), ("My-Header", " b "), ("my-header", "a  c"),
                ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("User-Agent", "not signed"),
            ], body),
            ["content-type", "host", "my-header", "x-amz-date"]).ParseOk();

        Assert.Equal($"""
            POST
            /

            content-type:application/x-www-form-urlencoded; charset=utf-8
            host:127.0.0.1:8788
            my-header:b,a c
            x-amz-date:{TestSigner.AmzDate}

            content-type;host;my-header;x-amz-date
            {SigV4Signer.HexSha256(body)}
            """, request.CanonicalRequest);
        Assert.Equal($"""
            AWS4-HMAC-SHA256
            {TestSigner.AmzDate}
            20150830/cp-1/ec2/aws4_request
            {SigV4Signer.HexSha256(request.CanonicalRequest)}
            """, request.StringToSign);
        Assert.Null(request.Verify(TestSigner.Secret));
    }
}
