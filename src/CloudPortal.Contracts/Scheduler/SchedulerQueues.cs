namespace CloudPortal.Contracts.Scheduler;

/// <summary>
/// The Scheduler's command queues, for senders that go through an outbox (which sends to an address rather than
/// making a request): <see cref="SelectHosts"/> and <see cref="ReleaseAllocation"/>. The answer to a request sent this
/// way, without a response address, is published (<see cref="HostsSelected"/>, <see cref="NoValidHost"/>).
/// </summary>
public static class SchedulerQueues
{
    public const string SelectHosts = "select-hosts";

    public const string ReleaseAllocation = "release-allocation";

    /// <summary><c>exchange:</c>, not <c>queue:</c>: see <see cref="Compute.ComputeAgentQueue.Address"/>.</summary>
    public static Uri Address(string queue) => new($"exchange:{queue}");
}
