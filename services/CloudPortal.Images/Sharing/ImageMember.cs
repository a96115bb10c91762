namespace CloudPortal.Images.Sharing;

public enum MemberStatus
{
    Pending,
    Accepted,
    Rejected,
}

/// <summary>A project an owner shared an image with. Only an accepted member may list and use the image.</summary>
public sealed class ImageMember
{
    public Guid ImageId { get; set; }

    public Guid ProjectId { get; set; }

    public MemberStatus Status { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
