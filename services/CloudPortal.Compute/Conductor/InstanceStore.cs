using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Conductor;

public static class InstanceStore
{
    /// <summary>The instance, tracked, for a consumer to change (null when Compute never had it).</summary>
    public static Task<Instance?> FindAsync(this ComputeDbContext db, Guid instanceId, CancellationToken cancellationToken) =>
        db.Instances.SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken);
}
