using CloudPortal.ServiceDefaults.Security;

namespace CloudPortal.Identity.Projects;

/// <summary>A user's role in one project (one role per user and project; higher roles include lower ones).</summary>
public sealed class RoleAssignment
{
    public Guid ProjectId { get; set; }

    public Guid UserId { get; set; }

    public ProjectRole Role { get; set; }

    public DateTime AssignedAt { get; set; }
}
