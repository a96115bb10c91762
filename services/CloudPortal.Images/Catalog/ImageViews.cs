namespace CloudPortal.Images.Catalog;

/// <summary>The copy agents fetch (qcow2 after a conversion).</summary>
public sealed record ComputeCopyView(string Format, long Size, string Sha256);

public sealed record ImportView(string Url, long? Bytes, long? TotalBytes, int Attempts, string? LastError);

public sealed record FailureView(string Code, string Reason);

public sealed record ImageView(
    Guid Id,
    string Name,
    string Status,
    string Visibility,
    bool Protected,
    Guid Owner,
    string? DiskFormat,
    string ContainerFormat,
    long? Size,
    long? VirtualSize,
    string? Sha256,
    string? Sha512,
    IReadOnlyList<string> HashAlgorithms,
    int MinRamMb,
    int MinDiskGb,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, string> Properties,
    string? Conversion,
    int? ConversionPercent,
    ComputeCopyView? Compute,
    ImportView? Import,
    FailureView? Failure,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string Self,
    string File)
{
    /// <summary>The owner and admins see failures and import progress; other projects see the catalog entry only.</summary>
    public static ImageView Of(Image image, IReadOnlyList<string> tags, bool ownerView) => new(
        image.Id,
        image.Name,
        Lower(image.Status),
        Lower(image.Visibility),
        image.Protected,
        image.OwnerProjectId,
        image.DiskFormat,
        image.ContainerFormat,
        image.SizeBytes,
        image.VirtualSizeBytes,
        image.Sha256,
        image.Sha512,
        HashesOf(image),
        image.MinRamMb,
        image.MinDiskGb,
        tags,
        image.Properties,
        image.ConversionState,
        image.ConversionPercent,
        image.ComputeFormat is { } format && image.ComputeSha256 is { } sha && image.ComputeSizeBytes is { } size ? new ComputeCopyView(format, size, sha) : null,
        ownerView && image.ImportUrl is { } url ? new ImportView(url, image.ImportBytes, image.ImportTotalBytes, image.ImportAttempts, image.ImportError) : null,
        ownerView && image.FailureCode is { } code ? new FailureView(code, image.FailureReason ?? "") : null,
        image.CreatedAt,
        image.UpdatedAt,
        $"/images/v2/images/{image.Id}",
        $"/images/v2/images/{image.Id}/file");

    /// <summary>Which checksums of the data as it arrived were computed (SHA-256 always; SHA-512 unless turned off).</summary>
    private static IReadOnlyList<string> HashesOf(Image image) =>
        image.Sha256 is null ? [] : image.Sha512 is null ? [Intake.HashAlgorithms.Sha256] : [Intake.HashAlgorithms.Sha256, Intake.HashAlgorithms.Sha512];

    public static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}

public sealed record ImagePage(IReadOnlyList<ImageView> Images, string? Next);
