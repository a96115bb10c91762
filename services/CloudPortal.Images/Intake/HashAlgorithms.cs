namespace CloudPortal.Images.Intake;

/// <summary>
/// The checksums intake computes as the data streams in (<c>CloudPortal:Images:HashAlgorithms</c>). SHA-256 always: it
/// is the image's strong ETag and what compute agents verify. SHA-512 (Glance's default <c>os_hash_algo</c>) by default;
/// it costs the most CPU of the upload's stages, so a cloud that needs the throughput can turn it off.
/// </summary>
public static class HashAlgorithms
{
    public const string Sha256 = "sha256";
    public const string Sha512 = "sha512";

    public const string Default = Sha256 + "," + Sha512;

    /// <summary>Whether SHA-512 is computed, from the setting (a comma-separated list); null when the setting is not understood.</summary>
    public static bool? Sha512Enabled(string? setting)
    {
        var names = (setting ?? Default).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).ToList();
        if (names.Count == 0 || names.Any(n => n is not (Sha256 or Sha512)) || !names.Contains(Sha256))
            return null;
        return names.Contains(Sha512);
    }
}
