using System.Text;
using CloudPortal.ServiceDefaults.Security.SigV4;
using Microsoft.Extensions.Primitives;

namespace CloudPortal.ServiceDefaults.Tests.Security;

/// <summary>An HTTP request as the verifier sees it: raw path and query, repeated headers kept apart, body bytes.</summary>
internal sealed record RawRequest(string Method, string Path, string? Query, IReadOnlyList<(string Name, string Value)> Headers, byte[] Body)
{
    public List<KeyValuePair<string, StringValues>> HeaderPairs =>
        [.. Headers.Select(static h => new KeyValuePair<string, StringValues>(h.Name, h.Value))];

    public SigV4ParseResult Parse(SigV4ParseOptions? options = null) =>
        SigV4Request.Parse(Method, Path, Query, HeaderPairs, Body, options);

    public SigV4Request ParseOk(SigV4ParseOptions? options = null)
    {
        var result = Parse(options);
        Xunit.Assert.True(result.Succeeded, $"{result.Error?.Code}: {result.Error?.Message}");
        return result.Request;
    }

    public RawRequest WithHeader(string name, string value) => this with { Headers = [.. Headers, (name, value)] };

    public RawRequest WithoutHeader(string name) =>
        this with { Headers = [.. Headers.Where(h => !h.Name.Equals(name, StringComparison.OrdinalIgnoreCase))] };

    public RawRequest ReplaceHeader(string name, string value) => WithoutHeader(name).WithHeader(name, value);

    public string? Header(string name) =>
        Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(static h => h.Value).FirstOrDefault();

    /// <summary>
    /// Parses an HTTP/1.1 request as the AWS signing test suite writes it: the request target may hold raw
    /// spaces and UTF-8, a header line starting with whitespace continues the previous one (obs-fold), and the
    /// body is Content-Length bytes after the blank line.
    /// </summary>
    public static RawRequest FromHttpText(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var headerEnd = text.IndexOf("\n\n", StringComparison.Ordinal);
        var head = headerEnd < 0 ? text.TrimEnd('\n') : text[..headerEnd];
        var lines = head.Split('\n');

        var requestLine = lines[0];
        var firstSpace = requestLine.IndexOf(' ', StringComparison.Ordinal);
        var lastSpace = requestLine.LastIndexOf(' ');
        var target = requestLine[(firstSpace + 1)..lastSpace];
        var question = target.IndexOf('?', StringComparison.Ordinal);

        var headers = new List<(string Name, string Value)>();
        foreach (var line in lines.Skip(1))
        {
            if (line.Length > 0 && line[0] is ' ' or '\t')
            {
                headers[^1] = (headers[^1].Name, headers[^1].Value + "\n" + line);
                continue;
            }
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add((line[..colon], line[(colon + 1)..]));
        }

        var body = Array.Empty<byte>();
        var contentLength = headers.Where(static h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(static h => int.Parse(h.Value.Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        if (contentLength > 0)
        {
            var start = Encoding.UTF8.GetByteCount(text[..(headerEnd + 2)]);
            body = bytes[start..(start + contentLength)];
        }

        return new RawRequest(requestLine[..firstSpace], question < 0 ? target : target[..question],
            question < 0 ? null : target[(question + 1)..], headers, body);
    }

    /// <summary>Splits <c>http://host:port/path?query</c> without normalizing anything (System.Uri would).</summary>
    public static (string Path, string? Query) SplitUrl(string url)
    {
        var afterScheme = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = url.IndexOf('/', afterScheme);
        var target = slash < 0 ? "/" : url[slash..];
        var question = target.IndexOf('?', StringComparison.Ordinal);
        return question < 0 ? (target, null) : (target[..question], target[(question + 1)..]);
    }
}

/// <summary>
/// Signs requests for tests the way a client does: the canonical request comes from the verifier itself (a
/// first parse with a placeholder signature), so these tests exercise parsing, not signing. Independent
/// signers are AWS's published vectors and botocore.
/// </summary>
internal static class TestSigner
{
    public const string AccessKeyId = "AKIDCLOUDPORTALTEST";
    public const string Secret = "cp-test-secret/with+some=chars";
    public const string AmzDate = "20150830T123600Z";
    public static readonly DateTimeOffset SignedAt = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    /// <summary>A GET signed in the Authorization header, with host and x-amz-date signed.</summary>
    public static RawRequest SignedGet(string path = "/", string? query = null, string region = "cp-1", string service = "ec2") =>
        SignHeader(new RawRequest("GET", path, query, [("Host", "127.0.0.1:8788"), ("X-Amz-Date", AmzDate)], []),
            ["host", "x-amz-date"], region, service);

    public static RawRequest SignHeader(RawRequest request, IReadOnlyList<string> signedHeaders, string region = "cp-1",
        string service = "ec2", string secret = Secret, SigV4ParseOptions? options = null)
    {
        var scope = $"{AccessKeyId}/{AmzDate[..8]}/{region}/{service}/aws4_request";
        string Authorization(string signature) =>
            $"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={string.Join(';', signedHeaders)}, Signature={signature}";

        var draft = request.ReplaceHeader("Authorization", Authorization(new string('0', 64))).ParseOk(options);
        return request.ReplaceHeader("Authorization",
            Authorization(SigV4Signer.ComputeSignature(secret, draft.Scope, draft.StringToSign)));
    }

    /// <summary>A presigned GET: X-Amz-* in the query, only host signed; no X-Amz-Expires when <paramref name="expiresSeconds"/> is null.</summary>
    public static RawRequest PresignedGet(string operationQuery, int? expiresSeconds, string region = "cp-1", SigV4ParseOptions? options = null)
    {
        var credential = Uri.EscapeDataString($"{AccessKeyId}/{AmzDate[..8]}/{region}/ec2/aws4_request");
        var query = $"{operationQuery}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}&X-Amz-Date={AmzDate}" +
                    (expiresSeconds is { } expires ? $"&X-Amz-Expires={expires}" : "") + "&X-Amz-SignedHeaders=host";
        var request = new RawRequest("GET", "/", query + "&X-Amz-Signature=" + new string('0', 64), [("Host", "127.0.0.1:8788")], []);
        var draft = request.ParseOk(options);
        return request with { Query = query + "&X-Amz-Signature=" + SigV4Signer.ComputeSignature(Secret, draft.Scope, draft.StringToSign) };
    }
}
