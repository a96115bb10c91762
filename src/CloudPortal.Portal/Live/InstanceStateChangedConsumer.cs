using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.AspNetCore.SignalR;

namespace CloudPortal.Portal.Live;

/// <summary>
/// Compute's instance events, forwarded to the browsers connected to this portal process. Every portal replica has
/// its own queue (a per-process consumer), so every replica hears every event and each one's browsers stay live.
/// </summary>
public sealed class InstanceStateChangedConsumer(IHubContext<LiveHub> hub) : IConsumer<InstanceStateChanged>
{
    public const string Method = "instanceChanged";

    public Task Consume(ConsumeContext<InstanceStateChanged> context)
    {
        var e = context.Message;
        var change = new
        {
            instanceId = e.InstanceId, projectId = e.ProjectId, name = e.Name, status = e.Status, task = e.Task,
            powerState = CloudPortal.Compute.Instances.InstanceView.Power(e.PowerState), faultCode = e.FaultCode, faultMessage = e.FaultMessage, at = e.At,
        };
        return hub.Clients.Groups(LiveHub.ProjectGroup(e.ProjectId), LiveHub.AllProjects).SendAsync(Method, change, context.CancellationToken);
    }
}
