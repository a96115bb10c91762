namespace CloudPortal.Images.Import;

/// <summary>A host (name, address or CIDR range) an admin allows URL imports from even though it is internal.</summary>
public sealed class ImportAllowedHost
{
    public required string Host { get; set; }

    public DateTime AddedAt { get; set; }

    public string? AddedBy { get; set; }
}
