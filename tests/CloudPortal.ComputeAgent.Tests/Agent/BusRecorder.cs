using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Scheduler;
using MassTransit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>Everything the agent published, in order, for a test to wait on (bounded waits only).</summary>
internal sealed class BusRecorder
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly List<(object Message, bool Claimed)> _messages = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(object message)
    {
        TaskCompletionSource arrived;
        lock (_gate)
        {
            _messages.Add((message, false));
            arrived = _arrived;
            _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        arrived.TrySetResult();
    }

    public IReadOnlyList<T> All<T>()
    {
        lock (_gate)
            return [.. _messages.Select(m => m.Message).OfType<T>()];
    }

    /// <summary>The first message matching that no earlier wait has taken; waits for it when there is none yet.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match, string what, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? Patience);
        while (true)
        {
            Task arrived;
            lock (_gate)
            {
                for (var i = 0; i < _messages.Count; i++)
                {
                    if (!_messages[i].Claimed && _messages[i].Message is T message && match(message))
                    {
                        _messages[i] = (message, true);
                        return message;
                    }
                }
                arrived = _arrived.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(arrived, Task.Delay(left)) != arrived)
                throw new TimeoutException($"no {what} within {(patience ?? Patience).TotalSeconds} s; published so far:\n  {string.Join("\n  ", All<object>())}");
        }
    }

    /// <summary>The answer to an action on an instance: its completion, or a test failure that quotes the reason.</summary>
    public async Task<InstanceActionCompleted> CompletedAsync(Guid instanceId, InstanceAction action)
    {
        var answer = await WaitForAsync<object>(m => m switch
        {
            InstanceActionCompleted c => c.InstanceId == instanceId && c.Action == action,
            InstanceActionFailed f => f.InstanceId == instanceId && f.Action == action,
            _ => false,
        }, $"answer to {action} of {instanceId}");
        return answer as InstanceActionCompleted
            ?? throw new Xunit.Sdk.XunitException($"{action} of {instanceId} failed: {answer}");
    }

    public Task<InstanceActionFailed> FailedAsync(Guid instanceId, InstanceAction action) =>
        WaitForAsync<InstanceActionFailed>(f => f.InstanceId == instanceId && f.Action == action, $"failure of {action} of {instanceId}");

    /// <summary>The answer to a spawn: <see cref="InstanceSpawned"/> or <see cref="InstanceSpawnFailed"/>.</summary>
    public Task<object> SpawnAnswerAsync(Guid instanceId) =>
        WaitForAsync<object>(m => m is InstanceSpawned s && s.InstanceId == instanceId || m is InstanceSpawnFailed f && f.InstanceId == instanceId,
            $"answer to the spawn of {instanceId}");
}

/// <summary>Records every event the agent publishes.</summary>
internal sealed class RecordingConsumer(BusRecorder recorder) :
    IConsumer<InstanceSpawned>,
    IConsumer<InstanceSpawnFailed>,
    IConsumer<InstanceActionCompleted>,
    IConsumer<InstanceActionFailed>,
    IConsumer<InstancePowerStateChanged>,
    IConsumer<NodeInstancesReported>,
    IConsumer<ComputeNodeReported>
{
    public Task Consume(ConsumeContext<InstanceSpawned> context) => Record(context.Message);

    public Task Consume(ConsumeContext<InstanceSpawnFailed> context) => Record(context.Message);

    public Task Consume(ConsumeContext<InstanceActionCompleted> context) => Record(context.Message);

    public Task Consume(ConsumeContext<InstanceActionFailed> context) => Record(context.Message);

    public Task Consume(ConsumeContext<InstancePowerStateChanged> context) => Record(context.Message);

    public Task Consume(ConsumeContext<NodeInstancesReported> context) => Record(context.Message);

    public Task Consume(ConsumeContext<ComputeNodeReported> context) => Record(context.Message);

    private Task Record(object message)
    {
        recorder.Add(message);
        return Task.CompletedTask;
    }
}
