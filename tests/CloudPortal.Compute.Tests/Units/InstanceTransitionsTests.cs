using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Compute;
using Xunit;

namespace CloudPortal.Compute.Tests.Units;

/// <summary>The transition table: which operation may start from which state, and the sentence when it may not.</summary>
public sealed class InstanceTransitionsTests
{
    private static Instance At(InstanceStatus status, InstanceTask? task = null, string? host = "node-1") =>
        new() { Id = Guid.NewGuid(), Name = "vm", FlavorName = "m1.tiny", ImageName = "img", Status = status, Task = task, Host = host };

    public static TheoryData<InstanceOperation, InstanceStatus, bool> Table => new()
    {
        { InstanceOperation.Stop, InstanceStatus.Active, true },
        { InstanceOperation.Stop, InstanceStatus.Error, true },
        { InstanceOperation.Stop, InstanceStatus.Stopped, false },
        { InstanceOperation.Stop, InstanceStatus.Paused, false },
        { InstanceOperation.Start, InstanceStatus.Stopped, true },
        { InstanceOperation.Start, InstanceStatus.Active, false },
        { InstanceOperation.Start, InstanceStatus.Suspended, false },
        { InstanceOperation.Reboot, InstanceStatus.Active, true },
        { InstanceOperation.Reboot, InstanceStatus.Stopped, false },
        { InstanceOperation.RebootHard, InstanceStatus.Stopped, true },
        { InstanceOperation.RebootHard, InstanceStatus.Paused, true },
        { InstanceOperation.RebootHard, InstanceStatus.Suspended, true },
        { InstanceOperation.RebootHard, InstanceStatus.Building, false },
        { InstanceOperation.Pause, InstanceStatus.Active, true },
        { InstanceOperation.Pause, InstanceStatus.Paused, false },
        { InstanceOperation.Unpause, InstanceStatus.Paused, true },
        { InstanceOperation.Unpause, InstanceStatus.Active, false },
        { InstanceOperation.Suspend, InstanceStatus.Active, true },
        { InstanceOperation.Suspend, InstanceStatus.Paused, false },
        { InstanceOperation.Resume, InstanceStatus.Suspended, true },
        { InstanceOperation.Resume, InstanceStatus.Stopped, false },
        { InstanceOperation.Delete, InstanceStatus.Building, true },
        { InstanceOperation.Delete, InstanceStatus.Error, true },
        { InstanceOperation.Delete, InstanceStatus.Deleted, false },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void An_operation_starts_only_from_the_statuses_the_table_gives(InstanceOperation operation, InstanceStatus status, bool allowed)
    {
        var instance = At(status);
        if (allowed)
        {
            var rule = InstanceTransitions.Begin(instance, operation, DateTime.UtcNow);
            Assert.Equal(rule.Task, instance.Task);
            Assert.NotNull(instance.TaskStartedAt);
        }
        else
        {
            var refused = Assert.Throws<InvalidStateException>(() => InstanceTransitions.Begin(instance, operation, DateTime.UtcNow));
            Assert.Contains($"it is {status.ToString().ToLowerInvariant()}", refused.Message, StringComparison.Ordinal);
            Assert.Null(instance.Task);
        }
    }

    [Fact]
    public void Nothing_but_delete_starts_while_another_task_runs()
    {
        var stopping = At(InstanceStatus.Active, InstanceTask.Stopping);
        var refused = Assert.Throws<InvalidStateException>(() => InstanceTransitions.Begin(stopping, InstanceOperation.Reboot, DateTime.UtcNow));
        Assert.Contains("while it is stopping", refused.Message, StringComparison.Ordinal);
        Assert.Equal(InstanceTask.Deleting, InstanceTransitions.Begin(stopping, InstanceOperation.Delete, DateTime.UtcNow).Task);
        Assert.Throws<InvalidStateException>(() => InstanceTransitions.Begin(stopping, InstanceOperation.Delete, DateTime.UtcNow));
    }

    [Fact]
    public void An_instance_never_built_on_a_host_can_only_be_deleted()
    {
        var unplaced = At(InstanceStatus.Error, host: null);
        Assert.Contains("never built on a host", Assert.Throws<InvalidStateException>(() => InstanceTransitions.Ensure(unplaced, InstanceOperation.Stop)).Message, StringComparison.Ordinal);
        Assert.Equal(InstanceOperation.Delete, InstanceTransitions.Ensure(unplaced, InstanceOperation.Delete).Operation);
    }

    [Fact]
    public void Each_operation_ends_in_the_status_its_agent_action_leaves()
    {
        Assert.Equal(InstanceStatus.Stopped, InstanceTransitions.Table[InstanceOperation.Stop].Ends);
        Assert.Equal(InstanceStatus.Paused, InstanceTransitions.Table[InstanceOperation.Pause].Ends);
        Assert.Equal(InstanceStatus.Suspended, InstanceTransitions.Table[InstanceOperation.Suspend].Ends);
        Assert.Equal(InstanceStatus.Deleted, InstanceTransitions.Table[InstanceOperation.Delete].Ends);
        Assert.All(InstanceTransitions.Table.Values.Where(r => r.Operation is InstanceOperation.Start or InstanceOperation.Reboot or InstanceOperation.RebootHard
            or InstanceOperation.Unpause or InstanceOperation.Resume), r => Assert.Equal(InstanceStatus.Active, r.Ends));
        Assert.Equal(InstanceAction.Reboot, InstanceTransitions.Table[InstanceOperation.RebootHard].AgentAction);
    }

    [Theory]
    [InlineData(PowerState.Running, InstanceStatus.Active)]
    [InlineData(PowerState.Shutdown, InstanceStatus.Stopped)]
    [InlineData(PowerState.Crashed, InstanceStatus.Stopped)]
    [InlineData(PowerState.Paused, InstanceStatus.Paused)]
    [InlineData(PowerState.Suspended, InstanceStatus.Suspended)]
    public void Libvirt_power_states_map_to_the_statuses_the_power_sync_sets(PowerState power, InstanceStatus status) =>
        Assert.Equal(status, InstanceTransitions.StatusFor(power));
}
