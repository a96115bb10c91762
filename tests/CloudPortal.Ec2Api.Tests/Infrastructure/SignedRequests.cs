using System.Globalization;
using System.Text;
using System.Xml.Linq;
using CloudPortal.ServiceDefaults.Security.SigV4;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>A request ready for the wire: exactly these bytes go out (see <see cref="RawHttp"/>).</summary>
public sealed record WireRequest(string Method, string Target, List<KeyValuePair<string, string>> Headers, byte[]? Body)
{
    public Task<RawResponse> SendAsync(Uri server) => RawHttp.SendAsync(server, Method, Target, Headers, Body);

    /// <summary>The request line, the headers other than the routine signed ones, and the body (invalid UTF-8 shown as \xNN).</summary>
    public string Describe(int max = 600)
    {
        var headers = Headers.Where(h => h.Key is not ("Host" or "X-Amz-Date") && !(h.Key == "Content-Type" && h.Value == Ec2Signer.FormContentType)
            && !(h.Key == "Authorization" && h.Value.StartsWith(SigV4Signer.Algorithm + " Credential=", StringComparison.Ordinal) && h.Value.Contains("/cp-1/ec2/aws4_request, SignedHeaders=", StringComparison.Ordinal)));
        var text = $"{Method} {Target}{string.Concat(headers.Select(h => $" [{h.Key}: {h.Value}]"))} {Printable(Body ?? [])}";
        return text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)";
    }

    private static string Printable(byte[] bytes)
    {
        var builder = new StringBuilder();
        foreach (var b in bytes.AsSpan(0, Math.Min(bytes.Length, 2000)))
            builder.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        return builder.ToString();
    }
}

/// <summary>
/// Signs EC2 Query requests by hand with the repository's SigV4 code, the way botocore does (signed headers
/// <c>content-type;host;x-amz-date</c>), so tests choose the date, the scope and the exact bytes.
/// </summary>
public sealed class Ec2Signer(Uri endpoint)
{
    public const string FormContentType = "application/x-www-form-urlencoded; charset=utf-8";

    public const string Version = "2016-11-15";

    public Uri Endpoint { get; } = endpoint;

    /// <summary><c>127.0.0.1:port</c>: what the client puts in Host, and signs.</summary>
    public string Host => Endpoint.Authority;

    public string Path => Endpoint.AbsolutePath;

    /// <summary>A form body from parameters, each name and value percent-encoded (RFC 3986) as the SDKs do.</summary>
    public static string Form(IEnumerable<(string Name, string Value)> parameters) =>
        string.Join('&', parameters.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"));

    public static string Form(string action, params (string Name, string Value)[] parameters) =>
        Form([("Action", action), ("Version", Version), .. parameters]);

    /// <summary>A signed POST of <paramref name="body"/>.</summary>
    public WireRequest Post(AccessKey key, byte[] body, DateTimeOffset? at = null, string region = Ec2Cloud.Region, string service = "ec2",
        string contentType = FormContentType, string? secret = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        var (amzDate, scope) = Scope(at, region, service);
        var canonical = string.Join('\n',
            "POST", SigV4Canonical.CanonicalUri(Path), "",
            $"content-type:{SigV4Canonical.TrimAll(contentType)}", $"host:{Host}", $"x-amz-date:{amzDate}", "",
            "content-type;host;x-amz-date", SigV4Signer.HexSha256(body));
        var signature = SigV4Signer.ComputeSignature(secret ?? key.Secret, scope, SigV4Signer.BuildStringToSign(amzDate, scope, canonical));
        return new WireRequest("POST", Path, [
            new("Host", Host),
            new("Content-Type", contentType),
            new("X-Amz-Date", amzDate),
            new("Authorization", Authorization(key.Id, scope, "content-type;host;x-amz-date", signature)),
        ], body);
    }

    public WireRequest Post(AccessKey key, string body, DateTimeOffset? at = null, string region = Ec2Cloud.Region, string service = "ec2") =>
        Post(key, Encoding.UTF8.GetBytes(body), at, region, service);

    /// <summary>A signed GET whose query is <paramref name="rawQuery"/> exactly as given (no leading <c>?</c>).</summary>
    public WireRequest Get(AccessKey key, string rawQuery, DateTimeOffset? at = null, string region = Ec2Cloud.Region, string service = "ec2")
    {
        ArgumentNullException.ThrowIfNull(key);
        var (amzDate, scope) = Scope(at, region, service);
        var canonical = string.Join('\n',
            "GET", SigV4Canonical.CanonicalUri(Path), SigV4Canonical.CanonicalQuery(rawQuery),
            $"host:{Host}", $"x-amz-date:{amzDate}", "",
            "host;x-amz-date", SigV4Signer.EmptyPayloadHash);
        var signature = SigV4Signer.ComputeSignature(key.Secret, scope, SigV4Signer.BuildStringToSign(amzDate, scope, canonical));
        return new WireRequest("GET", Path + "?" + rawQuery, [
            new("Host", Host),
            new("X-Amz-Date", amzDate),
            new("Authorization", Authorization(key.Id, scope, "host;x-amz-date", signature)),
        ], null);
    }

    public static string Authorization(string accessKeyId, SigV4Scope scope, string signedHeaders, string signature) =>
        $"{SigV4Signer.Algorithm} Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";

    private static (string AmzDate, SigV4Scope Scope) Scope(DateTimeOffset? at, string region, string service)
    {
        var when = (at ?? DateTimeOffset.UtcNow).ToUniversalTime();
        return (when.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture),
            new SigV4Scope(when.ToString("yyyyMMdd", CultureInfo.InvariantCulture), region, service));
    }
}

/// <summary>An EC2 answer: the status and the parsed XML (namespaces ignored, as every SDK ignores them).</summary>
public sealed class Ec2Answer
{
    private Ec2Answer(RawResponse response, XDocument? xml)
    {
        Response = response;
        Xml = xml;
    }

    public RawResponse Response { get; }

    public int Status => Response.Status;

    public string Body => Response.Text;

    public XDocument? Xml { get; }

    /// <summary><c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code&gt;</c> present and non-empty.</summary>
    public bool IsErrorXml => ErrorCode is { Length: > 0 };

    public string? ErrorCode => Xml?.Root is { Name.LocalName: "Response" } root
        ? root.Elements().FirstOrDefault(e => e.Name.LocalName == "Errors")?.Elements().FirstOrDefault(e => e.Name.LocalName == "Error")
            ?.Elements().FirstOrDefault(e => e.Name.LocalName == "Code")?.Value
        : null;

    public string? ErrorMessage => Xml?.Descendants().FirstOrDefault(e => e.Name.LocalName == "Message")?.Value;

    /// <summary>The values of every element named <paramref name="localName"/>, anywhere in the answer.</summary>
    public IReadOnlyList<string> Values(string localName) =>
        Xml?.Descendants().Where(e => e.Name.LocalName == localName).Select(e => e.Value).ToList() ?? [];

    public static Ec2Answer Of(RawResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        XDocument? xml = null;
        try
        {
            xml = XDocument.Parse(response.Text);
        }
        catch (System.Xml.XmlException)
        {
        }
        return new Ec2Answer(response, xml);
    }

    public override string ToString() => $"{Status} {(Body.Length > 600 ? Body[..600] + "…" : Body)}";
}

/// <summary>Hand-signed EC2 calls as one access key.</summary>
public sealed class Ec2Query(Ec2Signer signer, AccessKey key)
{
    public AccessKey Key => key;

    public async Task<Ec2Answer> CallAsync(string action, params (string Name, string Value)[] parameters) =>
        Ec2Answer.Of(await signer.Post(key, Ec2Signer.Form(action, parameters)).SendAsync(signer.Endpoint));

    /// <summary>Calls and expects 200 with the <c>{action}Response</c> root.</summary>
    public async Task<Ec2Answer> OkAsync(string action, params (string Name, string Value)[] parameters)
    {
        var answer = await CallAsync(action, parameters);
        Xunit.Assert.True(answer.Status == 200 && answer.Xml?.Root?.Name.LocalName == action + "Response", $"{action} as {key.User}: {answer}");
        return answer;
    }

    /// <summary>Calls and expects the AWS error <paramref name="code"/> with <paramref name="status"/>.</summary>
    public async Task<Ec2Answer> ErrorAsync(int status, string code, string action, params (string Name, string Value)[] parameters)
    {
        var answer = await CallAsync(action, parameters);
        Xunit.Assert.True(answer.Status == status && answer.ErrorCode == code, $"{action} as {key.User}: expected {status} {code}, got {answer}");
        return answer;
    }
}
