using System.Globalization;

namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>
/// Replay protection by time: a request signed more than the allowed skew (15 minutes, as AWS and Keystone
/// use) before or after the server's clock is <c>RequestExpired</c>; a presigned URL also expires
/// <c>X-Amz-Expires</c> seconds after its date.
/// </summary>
public static class SigV4TimeWindow
{
    public static readonly TimeSpan DefaultAllowedSkew = TimeSpan.FromMinutes(15);

    /// <summary>Null when <paramref name="now"/> falls in the window; a <c>RequestExpired</c> error otherwise.</summary>
    /// <param name="signedAt">The request's X-Amz-Date.</param>
    /// <param name="expiresIn">X-Amz-Expires of a presigned URL; null for a signed header.</param>
    public static SigV4Error? Check(DateTimeOffset signedAt, TimeSpan? expiresIn, DateTimeOffset now, TimeSpan? allowedSkew = null)
    {
        var skew = allowedSkew ?? DefaultAllowedSkew;
        if (signedAt - now > skew)
        {
            return SigV4Error.Expired(
                $"Request date {Format(signedAt)} is more than {Minutes(skew)} in the future of the server time {Format(now)}; check the client's clock.");
        }
        if (expiresIn is { } expires)
        {
            if (now > signedAt + expires)
            {
                return SigV4Error.Expired(
                    $"Request has expired: signed at {Format(signedAt)} and valid for {(long)expires.TotalSeconds} seconds, server time {Format(now)}.");
            }
        }
        else if (now - signedAt > skew)
        {
            return SigV4Error.Expired(
                $"Request has expired: signed at {Format(signedAt)}, more than {Minutes(skew)} before the server time {Format(now)}; check the client's clock.");
        }
        return null;
    }

    internal static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    private static string Minutes(TimeSpan skew) =>
        skew.TotalMinutes == 1 ? "1 minute" : $"{skew.TotalMinutes.ToString(CultureInfo.InvariantCulture)} minutes";
}
