namespace CloudPortal.Identity.AccessKeys;

/// <summary>An EC2 access key of one user in one project. The secret is stored encrypted (Data Protection).</summary>
public sealed class Ec2AccessKey
{
    /// <summary><c>AKIA</c> + 16 upper-case base-32 characters, as AWS issues them.</summary>
    public required string AccessKeyId { get; set; }

    public Guid UserId { get; set; }

    public Guid ProjectId { get; set; }

    public required string ProtectedSecret { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? LastUsedAt { get; set; }
}
