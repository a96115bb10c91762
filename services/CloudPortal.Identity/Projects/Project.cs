namespace CloudPortal.Identity.Projects;

/// <summary>A tenant: the unit of ownership, isolation and quota.</summary>
public sealed class Project
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTime CreatedAt { get; set; }
}
