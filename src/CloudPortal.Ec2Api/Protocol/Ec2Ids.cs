using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// AWS-shaped ids (<c>i-</c>, <c>r-</c>, <c>ami-</c>, <c>key-</c> + 17 lowercase hex) for the modules' GUIDs. They are
/// derived, not stored: the first 17 hex digits of SHA-256 over the kind and the GUID, so the same resource always has
/// the same id through any replica, and an id is resolved by comparing it with the ids of what the caller may see
/// (68 bits make a collision inside one project's resources practically impossible).
/// </summary>
public static partial class Ec2Ids
{
    public const string Instance = "i";
    public const string Reservation = "r";
    public const string Image = "ami";
    public const string KeyPair = "key";

    public static string Of(string kind, Guid id)
    {
        Span<byte> input = stackalloc byte[16 + kind.Length];
        id.TryWriteBytes(input);
        Encoding.ASCII.GetBytes(kind, input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return $"{kind}-{Convert.ToHexStringLower(hash)[..17]}";
    }

    /// <summary>Shaped as an id of this kind: AWS's old 8-hex ids too, which then simply do not exist.</summary>
    public static bool IsWellFormed(string kind, string id) =>
        id.Length > kind.Length + 1 && id.StartsWith(kind + "-", StringComparison.Ordinal) && HexId().IsMatch(id.AsSpan(kind.Length + 1));

    /// <summary>The 12-digit account id EC2 shows as <c>ownerId</c>: a project's, derived the same way.</summary>
    public static string Account(Guid projectId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(projectId.ToByteArray(), hash);
        return (BitConverter.ToUInt64(hash) % 1_000_000_000_000UL).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("^([0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex HexId();
}
