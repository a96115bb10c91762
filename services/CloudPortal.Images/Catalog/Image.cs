namespace CloudPortal.Images.Catalog;

/// <summary>Glance's image states. An image is usable only when <see cref="Active"/>.</summary>
public enum ImageStatus
{
    /// <summary>A record without data: waiting for an upload or an import.</summary>
    Queued,

    /// <summary>Data is arriving (upload or import) or being converted for the compute backend.</summary>
    Saving,

    Active,

    /// <summary>Intake refused the data (format, backing file, failed import or conversion); see the reason.</summary>
    Killed,

    /// <summary>Hidden from downloads (and so from new instances) by its owner or an admin; reactivation restores it.</summary>
    Deactivated,

    Deleted,
}

public enum ImageVisibility
{
    Private,
    Shared,
    Community,
    Public,
}

/// <summary>One image record. Checksums and size describe the data as it arrived; the compute copy is what agents fetch.</summary>
public sealed class Image
{
    /// <summary>Insertion order: the stable sort key for paging.</summary>
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    public Guid OwnerProjectId { get; set; }

    public required string Name { get; set; }

    public ImageStatus Status { get; set; }

    public ImageVisibility Visibility { get; set; }

    public bool Protected { get; set; }

    /// <summary>Declared by the owner, or detected at intake when not declared.</summary>
    public string? DiskFormat { get; set; }

    public string ContainerFormat { get; set; } = "bare";

    public int MinRamMb { get; set; }

    public int MinDiskGb { get; set; }

    /// <summary>Free-form key/value properties, stored as JSON.</summary>
    public Dictionary<string, string> Properties { get; set; } = [];

    public long? SizeBytes { get; set; }

    public long? VirtualSizeBytes { get; set; }

    public string? Sha256 { get; set; }

    /// <summary>Null when SHA-512 was off (<see cref="ImagesOptions.HashAlgorithms"/>) as the data arrived.</summary>
    public string? Sha512 { get; set; }

    /// <summary>The format agents receive (qcow2 after a conversion; otherwise the original format: raw backs an overlay as it is).</summary>
    public string? ComputeFormat { get; set; }

    public long? ComputeSizeBytes { get; set; }

    public string? ComputeSha256 { get; set; }

    /// <summary>Stable code of the last refusal or failure (e.g. <c>qcow2_backing_file</c>), shown to the owner.</summary>
    public string? FailureCode { get; set; }

    public string? FailureReason { get; set; }

    public string? ImportUrl { get; set; }

    public long? ImportBytes { get; set; }

    public long? ImportTotalBytes { get; set; }

    public int ImportAttempts { get; set; }

    public string? ImportError { get; set; }

    public string? ConversionState { get; set; }

    /// <summary>How far the running conversion is, 0-100 (qemu-img's own progress); 100 once done, null before it starts.</summary>
    public int? ConversionPercent { get; set; }

    /// <summary>Until when the import or conversion job working on the image holds it (see <see cref="Jobs.JobLease"/>).</summary>
    public DateTime? JobLeaseUntil { get; set; }

    /// <summary>Which job holds the lease: only its holder renews or gives it back.</summary>
    public Guid? JobLeaseHolder { get; set; }

    public Guid? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public DateTime? DeletedAt { get; set; }

    /// <summary>Holds stored data that counts against the owner's <c>image_bytes</c> quota.</summary>
    public bool HoldsData => SizeBytes is not null && Status is ImageStatus.Saving or ImageStatus.Active or ImageStatus.Deactivated;

    public void Fail(string code, string reason, DateTime at)
    {
        Status = ImageStatus.Killed;
        FailureCode = code;
        FailureReason = reason;
        UpdatedAt = at;
    }
}

/// <summary>A free-form label; images are filtered by tag.</summary>
public sealed class ImageTag
{
    public Guid ImageId { get; set; }

    public required string Tag { get; set; }
}
