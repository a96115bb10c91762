using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>
/// The credential scope <c>yyyyMMdd/region/service/aws4_request</c>. The signing key is derived from it, so a
/// key leaked for one day, region or service is useless for any other.
/// </summary>
public sealed record SigV4Scope
{
    public const string Terminator = "aws4_request";

    public SigV4Scope(string date, string region, string service)
    {
        if (!IsDate(date))
        {
            throw new ArgumentException($"Scope date must be yyyyMMdd, got '{date}'.", nameof(date));
        }
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentException.ThrowIfNullOrEmpty(service);
        if (region.Contains('/', StringComparison.Ordinal) || service.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("Scope region and service cannot contain '/'.");
        }
        Date = date;
        Region = region;
        Service = service;
    }

    /// <summary>The UTC day of the signature, <c>yyyyMMdd</c>.</summary>
    public string Date { get; }

    /// <summary>Whatever region string the client was configured with (botocore signed <c>cp-region-1</c>).</summary>
    public string Region { get; }

    /// <summary><c>ec2</c> for the EC2 API.</summary>
    public string Service { get; }

    public override string ToString() => $"{Date}/{Region}/{Service}/{Terminator}";

    /// <summary>Parses <c>yyyyMMdd/region/service/aws4_request</c>.</summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out SigV4Scope? scope)
    {
        scope = null;
        var parts = value?.Split('/');
        if (parts is not { Length: 4 } || parts[3] != Terminator || !IsDate(parts[0])
            || parts[1].Length == 0 || parts[2].Length == 0)
        {
            return false;
        }
        scope = new SigV4Scope(parts[0], parts[1], parts[2]);
        return true;
    }

    internal static bool IsDate(string? value) =>
        value is { Length: 8 }
        && DateTime.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
}
