using Microsoft.AspNetCore.Identity;

namespace CloudPortal.Identity.Users;

/// <summary>A person who signs in. Project roles live in <see cref="Projects.RoleAssignment"/>.</summary>
public sealed class CloudUser : IdentityUser<Guid>
{
    public string? DisplayName { get; set; }

    /// <summary>Cloud-wide administrator: manages projects, users, quotas, flavors and hosts.</summary>
    public bool IsCloudAdmin { get; set; }

    public DateTime CreatedAt { get; set; }
}
