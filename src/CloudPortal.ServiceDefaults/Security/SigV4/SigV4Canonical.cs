using System.Text;

namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>
/// The pieces of a SigV4 canonical request, by the rules for every service except S3 (which neither
/// normalizes nor double-encodes the path).
/// </summary>
public static class SigV4Canonical
{
    /// <summary>
    /// The canonical URI of a path exactly as it arrived on the wire (still percent-encoded, e.g. ASP.NET's
    /// <c>IHttpRequestFeature.RawTarget</c> without the query): dot segments removed, runs of slashes
    /// collapsed, then every byte but the unreserved ones and <c>/</c> percent-encoded. A client encodes the
    /// already-encoded path once more, so <c>/a%20b</c> signs as <c>/a%2520b</c>.
    /// </summary>
    public static string CanonicalUri(string rawPath)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        return rawPath.Length == 0 ? "/" : Encode(Encoding.UTF8.GetBytes(NormalizePath(rawPath)), keepSlash: true);
    }

    /// <summary>
    /// RFC 3986 dot-segment removal plus collapsing of empty segments, as AWS's signers do; a trailing slash
    /// survives only when something is left before it.
    /// </summary>
    public static string NormalizePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            return "/";
        }
        var kept = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (kept.Count > 0)
                {
                    kept.RemoveAt(kept.Count - 1);
                }
                continue;
            }
            kept.Add(segment);
        }
        var leading = path[0] == '/' ? "/" : "";
        var trailing = path[^1] == '/' && kept.Count > 0 ? "/" : "";
        return leading + string.Join('/', kept) + trailing;
    }

    /// <summary>
    /// The canonical query string of a raw query (with or without its leading <c>?</c>): each name and value
    /// percent-decoded, re-encoded with RFC 3986 rules (<c>+</c> is a literal plus, a space is <c>%20</c>),
    /// a missing value kept as empty, pairs sorted by name then value (ordinal), joined with <c>&amp;</c>.
    /// </summary>
    /// <param name="excludeSignature">Leave out <c>X-Amz-Signature</c>, as a presigned URL requires.</param>
    public static string CanonicalQuery(string? rawQuery, bool excludeSignature = false)
    {
        var pairs = new List<(string Name, string Value)>();
        foreach (var (name, value) in ParseQuery(rawQuery))
        {
            if (excludeSignature && name.Decoded == "X-Amz-Signature")
            {
                continue;
            }
            pairs.Add((name.Encoded, value.Encoded));
        }
        pairs.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        return string.Join('&', pairs.Select(static p => p.Name + "=" + p.Value));
    }

    /// <summary>
    /// A header value as it is signed: leading and trailing whitespace removed and every inner run of
    /// whitespace (including a folded line break) turned into one space.
    /// </summary>
    public static string TrimAll(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value)
        {
            if (IsWhitespace(c))
            {
                pendingSpace = builder.Length > 0;
                continue;
            }
            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }
            builder.Append(c);
        }
        return builder.ToString();
    }

    /// <summary>The query's name/value pairs, each both decoded (UTF-8, invalid bytes replaced) and canonically encoded.</summary>
    internal static IEnumerable<(QueryPart Name, QueryPart Value)> ParseQuery(string? rawQuery)
    {
        if (string.IsNullOrEmpty(rawQuery))
        {
            yield break;
        }
        var query = rawQuery[0] == '?' ? rawQuery[1..] : rawQuery;
        foreach (var pair in query.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? "" : pair[(equals + 1)..];
            yield return (QueryPart.From(name), QueryPart.From(value));
        }
    }

    internal readonly record struct QueryPart(string Decoded, string Encoded)
    {
        public static QueryPart From(string raw)
        {
            var bytes = PercentDecode(raw);
            return new QueryPart(Encoding.UTF8.GetString(bytes), Encode(bytes, keepSlash: false));
        }
    }

    private static bool IsWhitespace(char c) => c is ' ' or '\t' or '\r' or '\n' or '\f' or '\v';

    private static bool IsUnreserved(byte b) =>
        b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
            or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~';

    private static string Encode(ReadOnlySpan<byte> bytes, bool keepSlash)
    {
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (IsUnreserved(b) || (keepSlash && b == (byte)'/'))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return builder.ToString();
    }

    /// <summary>%XX becomes its byte; anything else (including a stray %) is taken as UTF-8 text.</summary>
    private static byte[] PercentDecode(string raw)
    {
        var output = new List<byte>(raw.Length);
        Span<byte> utf8 = stackalloc byte[4];
        var i = 0;
        while (i < raw.Length)
        {
            if (raw[i] == '%' && i + 2 < raw.Length && Uri.IsHexDigit(raw[i + 1]) && Uri.IsHexDigit(raw[i + 2]))
            {
                output.Add((byte)((Uri.FromHex(raw[i + 1]) << 4) | Uri.FromHex(raw[i + 2])));
                i += 3;
                continue;
            }
            Rune.DecodeFromUtf16(raw.AsSpan(i), out var rune, out var consumed);
            var length = rune.EncodeToUtf8(utf8);
            for (var k = 0; k < length; k++)
            {
                output.Add(utf8[k]);
            }
            i += consumed;
        }
        return [.. output];
    }
}
