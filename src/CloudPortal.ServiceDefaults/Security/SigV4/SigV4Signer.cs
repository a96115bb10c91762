using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>
/// The secret-holding half of SigV4 (used by Identity): signing-key derivation, the signature and its
/// constant-time check. Everything here is a pure function of its arguments.
/// </summary>
public static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Hex SHA-256 of an empty body.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>The payload hash a client uses when it did not sign the body (S3 style).</summary>
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";

    public static string HexSha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string HexSha256(string text) => HexSha256(Encoding.UTF8.GetBytes(text));

    /// <summary><c>AWS4-HMAC-SHA256 \n amzDate \n scope \n hex(SHA-256(canonicalRequest))</c>.</summary>
    public static string BuildStringToSign(string amzDate, SigV4Scope scope, string canonicalRequest)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return $"{Algorithm}\n{amzDate}\n{scope}\n{HexSha256(canonicalRequest)}";
    }

    /// <summary>
    /// Reads the date and scope back out of a string to sign. They are what the signature covers, so a verifier checks
    /// its time window against them and never against a time the caller states beside the signature.
    /// </summary>
    public static bool TryReadStringToSign(string stringToSign, out DateTimeOffset signedAt, out SigV4Scope? scope)
    {
        ArgumentNullException.ThrowIfNull(stringToSign);
        signedAt = default;
        scope = null;
        var lines = stringToSign.Split('\n');
        return lines.Length == 4 && lines[0] == Algorithm
            && DateTimeOffset.TryParseExact(lines[1], "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out signedAt)
            && SigV4Scope.TryParse(lines[2], out scope)
            && scope!.Date == lines[1][..8]
            && lines[3].Length == 64;
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] DeriveSigningKey(string secretAccessKey, SigV4Scope scope)
    {
        ArgumentNullException.ThrowIfNull(secretAccessKey);
        ArgumentNullException.ThrowIfNull(scope);
        var secret = Encoding.UTF8.GetBytes("AWS4" + secretAccessKey);
        try
        {
            var key = HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(scope.Date));
            key = Chain(key, scope.Region);
            key = Chain(key, scope.Service);
            return Chain(key, SigV4Scope.Terminator);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }

        static byte[] Chain(byte[] key, string data)
        {
            var next = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
            CryptographicOperations.ZeroMemory(key);
            return next;
        }
    }

    /// <summary>The lowercase hex signature of <paramref name="stringToSign"/>.</summary>
    public static string ComputeSignature(string secretAccessKey, SigV4Scope scope, string stringToSign) =>
        Convert.ToHexStringLower(Sign(secretAccessKey, scope, stringToSign));

    /// <summary>
    /// True when <paramref name="signature"/> (hex, as the client sent it) is the signature of
    /// <paramref name="stringToSign"/> under the key derived from <paramref name="secretAccessKey"/> and
    /// <paramref name="scope"/>. The comparison takes the same time wherever the first differing byte is, so a
    /// caller cannot guess a signature byte by byte. False, never an exception, for any malformed input.
    /// </summary>
    public static bool Verify(string secretAccessKey, string stringToSign, SigV4Scope scope, string signature)
    {
        if (secretAccessKey is null || stringToSign is null || scope is null || signature is null)
        {
            return false;
        }

        // The scope is part of what was signed; a caller handing over a different one has mixed up requests.
        if (!ScopeLineMatches(stringToSign, scope))
        {
            return false;
        }

        Span<byte> provided = stackalloc byte[32];
        if (signature.Length != 64
            || Convert.FromHexString(signature, provided, out _, out var written) != OperationStatus.Done
            || written != 32)
        {
            return false;
        }

        var expected = Sign(secretAccessKey, scope, stringToSign);
        return CryptographicOperations.FixedTimeEquals(expected, provided);
    }

    private static byte[] Sign(string secretAccessKey, SigV4Scope scope, string stringToSign)
    {
        var key = DeriveSigningKey(secretAccessKey, scope);
        try
        {
            return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static bool ScopeLineMatches(string stringToSign, SigV4Scope scope)
    {
        var lines = stringToSign.Split('\n');
        return lines.Length == 4 && lines[0] == Algorithm && lines[2] == scope.ToString();
    }
}
