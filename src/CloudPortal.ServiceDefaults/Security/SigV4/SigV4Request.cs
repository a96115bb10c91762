using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>Where the client put its signature.</summary>
public enum SigV4AuthLocation
{
    /// <summary><c>Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...</c></summary>
    Header,

    /// <summary>A presigned URL: <c>X-Amz-Algorithm</c>, <c>X-Amz-Credential</c>, ... <c>X-Amz-Signature</c> in the query.</summary>
    Query,
}

/// <summary>Choices a service makes about what it accepts. The defaults suit EC2.</summary>
public sealed record SigV4ParseOptions
{
    public static SigV4ParseOptions Default { get; } = new();

    /// <summary>When set, a credential scoped to another service is an <c>AuthFailure</c>.</summary>
    public string? ExpectedService { get; init; }

    /// <summary>
    /// Accept <c>X-Amz-Content-SHA256: UNSIGNED-PAYLOAD</c>. Off by default: an unsigned body could be changed
    /// in flight without the signature noticing, and no EC2 client sends it.
    /// </summary>
    public bool AllowUnsignedPayload { get; init; }

    /// <summary>
    /// Presigned URLs sign the literal <c>UNSIGNED-PAYLOAD</c> instead of the body's hash. That is S3's rule;
    /// other services (AWS's test suite, botocore's <c>SigV4QueryAuth</c>) sign the body's hash, the default.
    /// </summary>
    public bool PresignedPayloadIsUnsigned { get; init; }
}

/// <summary>Either a parsed <see cref="SigV4Request"/> or the <see cref="SigV4Error"/> to answer with.</summary>
public sealed class SigV4ParseResult
{
    private SigV4ParseResult(SigV4Request? request, SigV4Error? error)
    {
        Request = request;
        Error = error;
    }

    public SigV4Request? Request { get; }

    public SigV4Error? Error { get; }

    [MemberNotNullWhen(true, nameof(Request))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Succeeded => Request is not null;

    internal static SigV4ParseResult Ok(SigV4Request request) => new(request, null);

    internal static SigV4ParseResult Fail(SigV4Error error) => new(null, error);
}

/// <summary>
/// The secret-free half of SigV4 (used by the EC2 API): an incoming HTTP request's signature parameters, its
/// canonical request and its string to sign. The secret never comes near this type except in
/// <see cref="Verify"/>, a convenience over <see cref="SigV4Signer.Verify"/>.
/// </summary>
public sealed class SigV4Request
{
    /// <summary>AWS's upper bound for X-Amz-Expires: 7 days.</summary>
    public const int MaxExpiresSeconds = 604800;

    private SigV4Request(SigV4AuthLocation location, string accessKeyId, SigV4Scope scope, string amzDate,
        DateTimeOffset signedAt, TimeSpan? expiresIn, IReadOnlyList<string> signedHeaders, string signature,
        string? securityToken, string payloadHash, string canonicalRequest)
    {
        Location = location;
        AccessKeyId = accessKeyId;
        Scope = scope;
        AmzDate = amzDate;
        SignedAt = signedAt;
        ExpiresIn = expiresIn;
        SignedHeaders = signedHeaders;
        Signature = signature;
        SecurityToken = securityToken;
        PayloadHash = payloadHash;
        CanonicalRequest = canonicalRequest;
        StringToSign = SigV4Signer.BuildStringToSign(amzDate, scope, canonicalRequest);
    }

    public SigV4AuthLocation Location { get; }

    public string AccessKeyId { get; }

    public SigV4Scope Scope { get; }

    /// <summary><c>AccessKeyId/date/region/service/aws4_request</c>, as the client sent it.</summary>
    public string Credential => $"{AccessKeyId}/{Scope}";

    /// <summary>The X-Amz-Date value, <c>yyyyMMddTHHmmssZ</c>.</summary>
    public string AmzDate { get; }

    public DateTimeOffset SignedAt { get; }

    /// <summary>X-Amz-Expires of a presigned URL, null otherwise.</summary>
    public TimeSpan? ExpiresIn { get; }

    /// <summary>Lowercase, sorted header names the client signed.</summary>
    public IReadOnlyList<string> SignedHeaders { get; }

    /// <summary>The client's signature, 64 hex characters.</summary>
    public string Signature { get; }

    /// <summary>X-Amz-Security-Token, present only with temporary credentials.</summary>
    public string? SecurityToken { get; }

    /// <summary>The last line of the canonical request.</summary>
    public string PayloadHash { get; }

    public string CanonicalRequest { get; }

    public string StringToSign { get; }

    /// <summary>Parses and canonicalizes a request whose body the caller has buffered.</summary>
    /// <param name="method">HTTP method.</param>
    /// <param name="rawPath">The path as it arrived on the wire, still percent-encoded, without the query.</param>
    /// <param name="rawQuery">The raw query string, with or without its leading <c>?</c>.</param>
    /// <param name="headers">Every header; a name may repeat and a value may hold several entries (ASP.NET's <c>IHeaderDictionary</c> fits).</param>
    /// <param name="body">The raw body bytes, before any form parsing.</param>
    /// <param name="options">What the service accepts; <see cref="SigV4ParseOptions.Default"/> when null.</param>
    public static SigV4ParseResult Parse(string method, string rawPath, string? rawQuery,
        IEnumerable<KeyValuePair<string, StringValues>> headers, ReadOnlySpan<byte> body, SigV4ParseOptions? options = null) =>
        ParseCore(method, rawPath, rawQuery, headers, SigV4Signer.HexSha256(body), options ?? SigV4ParseOptions.Default);

    /// <summary>As the other overload, when the caller hashed the body itself (e.g. while streaming it).</summary>
    /// <param name="bodySha256">Lowercase or uppercase hex SHA-256 of the raw body.</param>
    public static SigV4ParseResult Parse(string method, string rawPath, string? rawQuery,
        IEnumerable<KeyValuePair<string, StringValues>> headers, string bodySha256, SigV4ParseOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bodySha256);
        if (!IsHex64(bodySha256))
        {
            throw new ArgumentException("The body hash must be 64 hexadecimal characters.", nameof(bodySha256));
        }
        return ParseCore(method, rawPath, rawQuery, headers, bodySha256.ToLowerInvariant(), options ?? SigV4ParseOptions.Default);
    }

    /// <summary>Null when the request's time is within the window (see <see cref="SigV4TimeWindow"/>), else <c>RequestExpired</c>.</summary>
    public SigV4Error? CheckTime(DateTimeOffset now, TimeSpan? allowedSkew = null) =>
        SigV4TimeWindow.Check(SignedAt, ExpiresIn, now, allowedSkew);

    /// <summary>Null when the signature is valid for this secret, else <c>AuthFailure</c>.</summary>
    public SigV4Error? Verify(string secretAccessKey) =>
        SigV4Signer.Verify(secretAccessKey, StringToSign, Scope, Signature) ? null : SigV4Error.AuthFailure();

    private static SigV4ParseResult ParseCore(string method, string rawPath, string? rawQuery,
        IEnumerable<KeyValuePair<string, StringValues>> headers, string bodyHash, SigV4ParseOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(rawPath);
        ArgumentNullException.ThrowIfNull(headers);

        var headerMap = CollectHeaders(headers);
        var query = SigV4Canonical.ParseQuery(rawQuery).Select(static p => (p.Name.Decoded, p.Value.Decoded)).ToList();
        var authHeader = headerMap.GetValueOrDefault("authorization");
        var queryAuth = query.Any(static p => p.Item1 is "X-Amz-Algorithm" or "X-Amz-Credential" or "X-Amz-Signature");

        if (authHeader is not null && queryAuth)
        {
            return Fail(SigV4Error.Incomplete(
                "Only one authentication mechanism is allowed: either the Authorization header or the X-Amz-* query parameters, not both."));
        }
        if (authHeader is null && !queryAuth)
        {
            return Fail(new SigV4Error(SigV4ErrorCodes.MissingAuthenticationToken,
                "The request is not signed: send an 'Authorization: AWS4-HMAC-SHA256 ...' header or presigned X-Amz-* query parameters."));
        }

        var fields = queryAuth ? FromQuery(query) : FromHeader(authHeader!, headerMap);
        if (fields.Error is { } fieldError)
        {
            return Fail(fieldError);
        }

        if (fields.Algorithm != SigV4Signer.Algorithm)
        {
            return Fail(UnsupportedAlgorithm(fields.Algorithm));
        }

        if (ParseCredential(fields.Credential!) is not { } credential)
        {
            return Fail(CredentialError(fields.Credential!));
        }
        var (accessKeyId, scope) = credential;

        if (!TryParseAmzDate(fields.AmzDate!, out var signedAt))
        {
            return Fail(SigV4Error.Incomplete(
                $"X-Amz-Date must be an ISO 8601 basic-format UTC time, yyyyMMddTHHmmssZ (e.g. 20150830T123600Z), got '{Clip(fields.AmzDate)}'."));
        }
        if (!fields.AmzDate!.StartsWith(scope.Date, StringComparison.Ordinal))
        {
            return Fail(SigV4Error.AuthFailure(
                $"Date in Credential scope does not match YYYYMMDD from X-Amz-Date: '{scope.Date}' != '{fields.AmzDate[..8]}'."));
        }
        if (options.ExpectedService is { } service && scope.Service != service)
        {
            return Fail(SigV4Error.AuthFailure($"Credential should be scoped to correct service: '{service}', not '{Clip(scope.Service)}'."));
        }

        if (ParseSignedHeaders(fields.SignedHeaders!, out var signedHeaders) is { } signedHeadersError)
        {
            return Fail(signedHeadersError);
        }
        if (!IsHex64(fields.Signature!))
        {
            return Fail(SigV4Error.Incomplete(
                $"Signature must be 64 hexadecimal characters (a hex HMAC-SHA256), got {fields.Signature!.Length} characters."));
        }

        TimeSpan? expiresIn = null;
        if (fields.Expires is { } expiresText)
        {
            if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                || seconds is < 1 or > MaxExpiresSeconds)
            {
                return Fail(SigV4Error.Incomplete(
                    $"X-Amz-Expires must be a whole number of seconds from 1 to {MaxExpiresSeconds} (7 days), got '{Clip(expiresText)}'."));
            }
            expiresIn = TimeSpan.FromSeconds(seconds);
        }

        var canonicalHeaders = new StringBuilder();
        foreach (var name in signedHeaders)
        {
            if (!headerMap.TryGetValue(name, out var values))
            {
                return Fail(SigV4Error.AuthFailure(
                    $"Header '{name}' is listed in SignedHeaders but is not in the request; a proxy may have removed it."));
            }
            canonicalHeaders.Append(name).Append(':')
                .AppendJoin(',', values.Select(SigV4Canonical.TrimAll)).Append('\n');
        }

        if (PayloadLine(headerMap, bodyHash, queryAuth, options) is not { } payloadHash)
        {
            return Fail(PayloadError(headerMap, options));
        }

        var canonicalRequest = string.Join('\n',
            method.ToUpperInvariant(),
            SigV4Canonical.CanonicalUri(rawPath),
            SigV4Canonical.CanonicalQuery(rawQuery, excludeSignature: queryAuth),
            canonicalHeaders.ToString(),
            string.Join(';', signedHeaders),
            payloadHash);

        return SigV4ParseResult.Ok(new SigV4Request(queryAuth ? SigV4AuthLocation.Query : SigV4AuthLocation.Header,
            accessKeyId, scope, fields.AmzDate, signedAt, expiresIn, signedHeaders, fields.Signature!.ToLowerInvariant(),
            fields.SecurityToken, payloadHash, canonicalRequest));
    }

    private static SigV4ParseResult Fail(SigV4Error error) => SigV4ParseResult.Fail(error);

    /// <summary>Lowercase name → values in arrival order; null entries dropped.</summary>
    private static Dictionary<string, List<string>> CollectHeaders(IEnumerable<KeyValuePair<string, StringValues>> headers)
    {
        var map = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, values) in headers)
        {
            if (string.IsNullOrEmpty(name))
            {
                continue;
            }
            var key = name.Trim().ToLowerInvariant();
            if (!map.TryGetValue(key, out var list))
            {
                map[key] = list = [];
            }
            foreach (var value in values)
            {
                if (value is not null)
                {
                    list.Add(value);
                }
            }
        }
        return map;
    }

    private sealed record AuthFields(string? Algorithm, string? Credential, string? SignedHeaders, string? Signature,
        string? AmzDate, string? Expires, string? SecurityToken, SigV4Error? Error = null)
    {
        public static AuthFields Failed(SigV4Error error) => new(null, null, null, null, null, null, null, error);
    }

    private static AuthFields FromHeader(List<string> authorization, Dictionary<string, List<string>> headers)
    {
        if (authorization.Count != 1)
        {
            return AuthFields.Failed(SigV4Error.Incomplete("The request has more than one Authorization header."));
        }
        var text = authorization[0].Trim();
        if (text.Length == 0)
        {
            return AuthFields.Failed(SigV4Error.Incomplete("The Authorization header is empty."));
        }

        var space = text.IndexOfAny([' ', '\t']);
        var algorithm = space < 0 ? text : text[..space];
        if (algorithm != SigV4Signer.Algorithm)
        {
            return AuthFields.Failed(UnsupportedAlgorithm(algorithm));
        }

        var components = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in (space < 0 ? "" : text[(space + 1)..]).Split(','))
        {
            var component = part.Trim();
            if (component.Length == 0)
            {
                continue;
            }
            var equals = component.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return AuthFields.Failed(SigV4Error.Incomplete(
                    $"Authorization header component '{Clip(component)}' is not of the form Name=Value."));
            }
            var name = component[..equals].Trim();
            if (!components.TryAdd(name, component[(equals + 1)..].Trim()))
            {
                return AuthFields.Failed(SigV4Error.Incomplete($"Authorization header has '{Clip(name)}' more than once."));
            }
        }

        // Unknown components are ignored; the three that matter must be there and non-empty.
        string[] required = ["Credential", "SignedHeaders", "Signature"];
        var missing = required.Where(name => string.IsNullOrEmpty(components.GetValueOrDefault(name))).ToList();
        if (missing.Count > 0)
        {
            return AuthFields.Failed(SigV4Error.Incomplete(
                $"Authorization header requires the Credential, SignedHeaders and Signature parameters; missing: {string.Join(", ", missing)}."));
        }

        var amzDate = headers.GetValueOrDefault("x-amz-date");
        if (amzDate is not { Count: > 0 })
        {
            return AuthFields.Failed(SigV4Error.Incomplete("Authorization header requires existence of an 'X-Amz-Date' header."));
        }
        if (amzDate.Count != 1)
        {
            return AuthFields.Failed(SigV4Error.Incomplete("The request has more than one X-Amz-Date header."));
        }
        var token = headers.GetValueOrDefault("x-amz-security-token");
        return new AuthFields(algorithm, components["Credential"], components["SignedHeaders"], components["Signature"], amzDate[0].Trim(), null,
            token is { Count: > 0 } ? string.Join(',', token) : null);
    }

    private static AuthFields FromQuery(List<(string Name, string Value)> query)
    {
        string? Single(string name, out bool duplicated)
        {
            var values = query.Where(p => p.Name == name).Select(static p => p.Value).ToList();
            duplicated = values.Count > 1;
            return values.Count == 1 ? values[0] : null;
        }

        string[] required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"];
        var found = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in required.Append("X-Amz-Expires").Append("X-Amz-Security-Token"))
        {
            found[name] = Single(name, out var duplicated);
            if (duplicated)
            {
                return AuthFields.Failed(SigV4Error.Incomplete($"Query parameter '{name}' appears more than once."));
            }
        }
        var missing = required.Where(name => string.IsNullOrEmpty(found[name])).ToList();
        if (missing.Count > 0)
        {
            return AuthFields.Failed(SigV4Error.Incomplete(
                $"Query-string authentication requires the {string.Join(", ", required)} parameters; missing: {string.Join(", ", missing)}."));
        }
        return new AuthFields(found["X-Amz-Algorithm"], found["X-Amz-Credential"], found["X-Amz-SignedHeaders"],
            found["X-Amz-Signature"], found["X-Amz-Date"], found["X-Amz-Expires"], found["X-Amz-Security-Token"]);
    }

    private static SigV4Error UnsupportedAlgorithm(string? algorithm) => SigV4Error.Incomplete(
        $"Unsupported authorization algorithm '{Clip(algorithm)}': only {SigV4Signer.Algorithm} (Signature Version 4) is accepted.");

    private static (string AccessKeyId, SigV4Scope Scope)? ParseCredential(string credential)
    {
        var parts = credential.Split('/');
        if (parts.Length != 5 || parts[0].Length == 0 || !SigV4Scope.IsDate(parts[1]) || parts[2].Length == 0
            || parts[3].Length == 0 || parts[4] != SigV4Scope.Terminator)
        {
            return null;
        }
        return (parts[0], new SigV4Scope(parts[1], parts[2], parts[3]));
    }

    private static SigV4Error CredentialError(string credential)
    {
        var parts = credential.Split('/');
        var detail = parts.Length != 5
            ? $"it has {parts.Length} slash-separated part{(parts.Length == 1 ? "" : "s")}, not 5"
            : parts[0].Length == 0 ? "the access key ID is empty"
            : !SigV4Scope.IsDate(parts[1]) ? $"'{Clip(parts[1])}' is not a yyyyMMdd date"
            : parts[2].Length == 0 ? "the region is empty"
            : parts[3].Length == 0 ? "the service is empty"
            : $"it should be scoped with a valid terminator: '{SigV4Scope.Terminator}', not '{Clip(parts[4])}'";
        return SigV4Error.Incomplete(
            $"Credential must be <access key ID>/<yyyyMMdd>/<region>/<service>/aws4_request, got '{Clip(credential)}': {detail}.");
    }

    private static bool TryParseAmzDate(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static SigV4Error? ParseSignedHeaders(string value, out List<string> names)
    {
        names = [.. value.Split(';')];
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (name.Length == 0 || name.Any(static c => c <= ' ' || c >= 127 || c == ':'))
            {
                return SigV4Error.Incomplete($"SignedHeaders '{Clip(value)}' has an empty or invalid header name.");
            }
            if (name.Any(char.IsAsciiLetterUpper))
            {
                return SigV4Error.Incomplete($"SignedHeaders must be lowercase; got '{Clip(name)}'.");
            }
            if (i > 0 && string.CompareOrdinal(names[i - 1], name) >= 0)
            {
                return SigV4Error.Incomplete($"SignedHeaders must be sorted and without repeats; got '{Clip(value)}'.");
            }
        }
        if (!names.Contains("host"))
        {
            return SigV4Error.Incomplete("'Host' must be a signed header (listed in SignedHeaders).");
        }
        return null;
    }

    /// <summary>The payload line of the canonical request, or null when the request's payload claim is unacceptable.</summary>
    private static string? PayloadLine(Dictionary<string, List<string>> headers, string bodyHash, bool presigned, SigV4ParseOptions options)
    {
        if (headers.GetValueOrDefault("x-amz-content-sha256") is { Count: > 0 } declared)
        {
            if (declared.Count != 1)
            {
                return null;
            }
            var value = declared[0].Trim();
            if (value == SigV4Signer.UnsignedPayload)
            {
                return options.AllowUnsignedPayload ? value : null;
            }
            // Honour the header as the client signed it, but only if it tells the truth about the body.
            return IsHex64(value) && string.Equals(value, bodyHash, StringComparison.OrdinalIgnoreCase) ? value : null;
        }
        return presigned && options.PresignedPayloadIsUnsigned ? SigV4Signer.UnsignedPayload : bodyHash;
    }

    private static SigV4Error PayloadError(Dictionary<string, List<string>> headers, SigV4ParseOptions options)
    {
        var declared = headers["x-amz-content-sha256"];
        var value = declared.Count == 1 ? declared[0].Trim() : "";
        return declared.Count != 1
            ? SigV4Error.Incomplete("The request has more than one X-Amz-Content-SHA256 header.")
            : value == SigV4Signer.UnsignedPayload && !options.AllowUnsignedPayload
                ? SigV4Error.Incomplete("X-Amz-Content-SHA256: UNSIGNED-PAYLOAD is not accepted; sign the request body.")
                : !IsHex64(value)
                    ? SigV4Error.Incomplete($"X-Amz-Content-SHA256 must be the hex SHA-256 of the body, got '{Clip(value)}'.")
                    : SigV4Error.AuthFailure("X-Amz-Content-SHA256 does not match the SHA-256 of the request body.");
    }

    private static bool IsHex64(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);

    /// <summary>Client text echoed in a message, cut short so a hostile header cannot bloat the response.</summary>
    private static string Clip(string? value) => value is null ? "" : value.Length <= 80 ? value : value[..80] + "...";
}
