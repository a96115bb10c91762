using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Persistence;
using Microsoft.EntityFrameworkCore.Storage;

namespace CloudPortal.Identity.Projects;

/// <summary>
/// One lock for every change of a project's status and every snapshot of the disabled ones
/// (<see cref="GetDisabledProjectsConsumer"/>): a change stamps its <c>ChangedAt</c> after the lock and commits before
/// releasing it, a snapshot stamps its <c>ReadAt</c> after the lock. So a snapshot holds exactly the changes stamped
/// before it, and a process may let it win over everything it heard stamped earlier.
/// </summary>
internal static class ProjectStatusLock
{
    private static readonly Guid Key = new("0b8e4d6a-3c21-4f7e-b9a4-6d2f1e8c5a37");

    public static Task<IDbContextTransaction> BeginAsync(IdentityModuleDbContext db, CancellationToken cancellationToken) =>
        db.Database.BeginLockedAsync(Key, cancellationToken);
}
