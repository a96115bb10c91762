using CloudPortal.Compute.Data;
using CloudPortal.Compute.Usage;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Outbox;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Instances;

/// <summary>
/// What every change of an instance brings along, in the same transaction: the row's version and timestamp, the
/// <see cref="InstanceStateChanged"/> event, the usage segments (instance-hours by status and flavor), and the action log.
/// </summary>
public static class InstanceLifecycle
{
    /// <summary>The statuses usage is counted in (building, error and deleted instances are not billed).</summary>
    public static readonly IReadOnlySet<InstanceStatus> Billable = new HashSet<InstanceStatus>
    {
        InstanceStatus.Active, InstanceStatus.Stopped, InstanceStatus.Paused, InstanceStatus.Suspended,
    };

    /// <summary>Records that <paramref name="instance"/> changed (its status was <paramref name="before"/>); call before saving.</summary>
    public static async Task ChangedAsync(ComputeDbContext db, Instance instance, InstanceStatus before, DateTime at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(instance);
        instance.UpdatedAt = at;
        instance.Version++;
        if (before != instance.Status)
        {
            if (instance.Status == InstanceStatus.Active)
                instance.LaunchedAt ??= at;
            if (instance.Status == InstanceStatus.Deleted)
                instance.DeletedAt ??= at;
            // Tracked, not ExecuteUpdate: the segment closes in the caller's SaveChanges, with the change itself.
            foreach (var open in await db.UsageSegments.Where(s => s.InstanceId == instance.Id && s.EndedAt == null).ToListAsync(cancellationToken))
                open.EndedAt = at;
            if (Billable.Contains(instance.Status))
            {
                db.UsageSegments.Add(new UsageSegment
                {
                    InstanceId = instance.Id,
                    ProjectId = instance.ProjectId,
                    FlavorName = instance.FlavorName,
                    VCpus = instance.VCpus,
                    RamMb = instance.RamMb,
                    DiskGb = instance.DiskGb,
                    Status = InstanceTransitions.Lower(instance.Status),
                    StartedAt = at,
                });
            }
        }
        db.Outbox.Publish(new InstanceStateChanged(
            instance.Id, instance.ProjectId, instance.Name, InstanceTransitions.Lower(instance.Status),
            instance.Task is { } task ? InstanceTransitions.Wire(task) : null, instance.PowerState,
            instance.FaultCode, instance.FaultMessage, new DateTimeOffset(at, TimeSpan.Zero)));
    }

    /// <summary>Opens an entry in the instance's action log.</summary>
    public static InstanceActionRecord Record(ComputeDbContext db, Instance instance, InstanceOperation operation, ActionRequester requester, DateTime at)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(requester);
        var record = new InstanceActionRecord
        {
            Id = Guid.CreateVersion7(),
            InstanceId = instance.Id,
            ProjectId = instance.ProjectId,
            RequestId = requester.RequestId,
            Operation = operation,
            UserId = requester.UserId,
            UserName = requester.UserName,
            StartedAt = at,
        };
        db.InstanceActions.Add(record);
        return record;
    }

    /// <summary>Closes the instance's open entries for <paramref name="operations"/> (the newest first; older ones are stale).</summary>
    public static async Task FinishAsync(ComputeDbContext db, Guid instanceId, IReadOnlyCollection<InstanceOperation> operations, bool success,
        string? faultCode, string? faultMessage, string? detail, DateTime at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var open = await db.InstanceActions
            .Where(a => a.InstanceId == instanceId && a.FinishedAt == null && operations.Contains(a.Operation))
            .ToListAsync(cancellationToken);
        foreach (var record in open)
        {
            record.FinishedAt = at;
            record.Result = success ? "success" : "error";
            record.FaultCode = faultCode;
            record.FaultMessage = faultMessage is { Length: > 2048 } ? faultMessage[..2048] : faultMessage;
            record.Detail = detail is { Length: > 512 } ? detail[..512] : detail;
        }
    }
}

/// <summary>Who asked for an operation, for the action log: a user's request, or Compute itself (reaper, power sync).</summary>
public sealed record ActionRequester(string RequestId, Guid? UserId, string UserName)
{
    public static ActionRequester System(string why) => new(why, null, "cloudportal");

    /// <summary>The id problem details and logs carry for this request (W3C trace context), so an entry can be found in both.</summary>
    public static string RequestIdOf(Microsoft.AspNetCore.Http.HttpContext http) => global::System.Diagnostics.Activity.Current?.Id ?? http.TraceIdentifier;
}
