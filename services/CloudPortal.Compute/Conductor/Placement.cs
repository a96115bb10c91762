using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Conductor;

/// <summary>The conductor's messages to the Scheduler and the nodes, always through the outbox (with the change that causes them).</summary>
public static class Placement
{
    public static PlacementResources Resources(Instance instance) => new(instance.VCpus, instance.RamMb, instance.DiskGb + instance.EphemeralGb);

    /// <summary>Asks the Scheduler for a host (and a claim there), avoiding the hosts earlier attempts failed on.</summary>
    public static async Task RequestHostAsync(ComputeDbContext db, Instance instance, CancellationToken cancellationToken)
    {
        ServerGroupPlacement? group = null;
        if (instance.ServerGroupId is { } groupId
            && await db.ServerGroups.AsNoTracking().Where(g => g.Id == groupId).Select(g => g.Policy).SingleOrDefaultAsync(cancellationToken) is { } policy)
        {
            // Where the other members run, once per member; members placed a moment ago the Scheduler adds from its claims.
            var hosts = await db.Instances.AsNoTracking()
                .Where(i => i.ServerGroupId == groupId && i.Id != instance.Id && i.Host != null && i.Status != InstanceStatus.Deleted)
                .Select(i => i.Host!).ToListAsync(cancellationToken);
            group = new ServerGroupPlacement(groupId, policy, hosts);
        }
        db.Outbox.Send(SchedulerQueues.Address(SchedulerQueues.SelectHosts), new SelectHosts(
            instance.Id, instance.ProjectId, Resources(instance), instance.RequestedZone, group,
            instance.ImageProperties, instance.FlavorExtraSpecs, instance.FailedHosts.Count > 0 ? instance.FailedHosts : null));
    }

    /// <summary>Gives back whatever the instance holds on its host (idempotent: nothing held is fine).</summary>
    public static void ReleaseClaim(ComputeDbContext db, Guid instanceId) =>
        db.Outbox.Send(SchedulerQueues.Address(SchedulerQueues.ReleaseAllocation), new ReleaseAllocation(instanceId));

    public static void Spawn(ComputeDbContext db, Instance instance)
    {
        var source = instance.ImageSource ?? throw new InvalidOperationException($"instance {instance.Id} has no image source");
        db.Outbox.Send(ComputeAgentQueue.Address(instance.Host!), new SpawnInstance(
            instance.Id, instance.ProjectId, instance.Host!, new FlavorSpec(instance.FlavorName, instance.VCpus, instance.RamMb, instance.DiskGb),
            source, instance.UserData));
    }

    /// <summary>Tells <paramref name="host"/> to remove the instance's domain and disk (also one it should not have).</summary>
    public static void DeleteFrom(ComputeDbContext db, Guid instanceId, string host) =>
        db.Outbox.Send(ComputeAgentQueue.Address(host), new DeleteInstance(instanceId, host));

    /// <summary>The agent's command for an operation's action.</summary>
    public static void Command(ComputeDbContext db, Instance instance, InstanceTransitions.Rule rule)
    {
        var host = instance.Host!;
        object command = rule.Operation switch
        {
            InstanceOperation.Stop => new StopInstance(instance.Id, host),
            InstanceOperation.Start => new StartInstance(instance.Id, host),
            InstanceOperation.Reboot => new RebootInstance(instance.Id, host, Hard: false),
            InstanceOperation.RebootHard => new RebootInstance(instance.Id, host, Hard: true),
            InstanceOperation.Pause => new PauseInstance(instance.Id, host),
            InstanceOperation.Unpause => new UnpauseInstance(instance.Id, host),
            InstanceOperation.Suspend => new SuspendInstance(instance.Id, host),
            InstanceOperation.Resume => new ResumeInstance(instance.Id, host),
            InstanceOperation.Delete => new DeleteInstance(instance.Id, host),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule.Operation, "no agent command"),
        };
        db.Outbox.Send(ComputeAgentQueue.Address(host), command);
    }
}
