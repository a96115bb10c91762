namespace CloudPortal.Images.Quotas;

/// <summary>
/// A limit Identity published (<c>ProjectQuotaChanged</c>), cached here. <see cref="ProjectId"/> is
/// <see cref="Guid.Empty"/> for the cloud-wide default.
/// </summary>
public sealed class ImageQuotaLimit
{
    public Guid ProjectId { get; set; }

    public required string Resource { get; set; }

    public long Limit { get; set; }

    public DateTime ChangedAt { get; set; }
}
