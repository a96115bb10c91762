using System.Collections.Concurrent;
using CloudPortal.ComputeAgent;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Messaging;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Bench.Launch;

/// <summary>The compute agent as <c>cloudportal agent</c> runs it, in this process on the in-memory bus, with Compute's side beside it.</summary>
internal sealed class BenchAgent : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Answers _answers;
    private readonly IBus _bus;

    private BenchAgent(WebApplication app, Answers answers, string host)
    {
        _app = app;
        _answers = answers;
        _bus = app.Services.GetRequiredService<IBus>();
        Host = host;
    }

    public string Host { get; }

    public static async Task<BenchAgent> StartAsync(string libvirt, string host, string root, string imagesPool, string instancesPool, int port)
    {
        Environment.SetEnvironmentVariable("ASPNETCORE_PREVENTHOSTINGSTARTUP", "true");
        var builder = CloudPortalApp.CreateBuilder("agent", null, new Dictionary<string, string?>
        {
            ["urls"] = $"http://127.0.0.1:{port}",
            ["CloudPortal:DataDir"] = Path.Combine(root, "data"),
            ["CloudPortal:Agent:Host"] = host,
            ["CloudPortal:Agent:Libvirt"] = libvirt,
            ["CloudPortal:Agent:ImagesPool"] = imagesPool,
            ["CloudPortal:Agent:ImagesPath"] = Path.Combine(root, "image-cache"),
            ["CloudPortal:Agent:InstancesPool"] = instancesPool,
            ["CloudPortal:Agent:InstancesPath"] = Path.Combine(root, "instances"),
            ["CloudPortal:Agent:ConsolePath"] = Path.Combine(root, "consoles"),
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        builder.AddComputeAgentModule();
        var answers = new Answers();
        builder.Services.AddSingleton(answers);
        builder.AddConsumers(bus => bus.AddConsumer<AnswerConsumer>().Endpoint(e => e.Name = "bench-compute"));
        builder.AddCloudPortalBus();
        var app = builder.Build();
        await app.StartAsync();
        return new BenchAgent(app, answers, host);
    }

    /// <summary>Sends the spawn and waits for the agent's answer; throws when it is a failure.</summary>
    public async Task SpawnAsync(SpawnInstance spawn)
    {
        var answer = _answers.Expect(spawn.InstanceId);
        await (await _bus.GetSendEndpoint(ComputeAgentQueue.Address(Host))).Send(spawn);
        if (await answer.WaitAsync(TimeSpan.FromSeconds(120)) is not InstanceSpawned)
            throw new InvalidOperationException($"spawn failed: {answer.Result}");
    }

    public async Task DeleteAsync(Guid instanceId)
    {
        var answer = _answers.Expect(instanceId);
        await (await _bus.GetSendEndpoint(ComputeAgentQueue.Address(Host))).Send(new DeleteInstance(instanceId, Host));
        if (await answer.WaitAsync(TimeSpan.FromSeconds(120)) is not InstanceActionCompleted)
            throw new InvalidOperationException($"delete failed: {answer.Result}");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>The next answer per instance: one command in flight per instance at a time.</summary>
internal sealed class Answers
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<object>> _pending = new();

    public Task<object> Expect(Guid instanceId)
    {
        var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[instanceId] = answer;
        return answer.Task;
    }

    public void Complete(Guid instanceId, object message)
    {
        if (_pending.TryRemove(instanceId, out var answer))
            answer.TrySetResult(message);
    }
}

internal sealed class AnswerConsumer(Answers answers) :
    IConsumer<InstanceSpawned>,
    IConsumer<InstanceSpawnFailed>,
    IConsumer<InstanceActionCompleted>,
    IConsumer<InstanceActionFailed>
{
    public Task Consume(ConsumeContext<InstanceSpawned> context) => Done(context.Message.InstanceId, context.Message);

    public Task Consume(ConsumeContext<InstanceSpawnFailed> context) => Done(context.Message.InstanceId, context.Message);

    public Task Consume(ConsumeContext<InstanceActionCompleted> context) => Done(context.Message.InstanceId, context.Message);

    public Task Consume(ConsumeContext<InstanceActionFailed> context) => Done(context.Message.InstanceId, context.Message);

    private Task Done(Guid instanceId, object message)
    {
        answers.Complete(instanceId, message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The host's console lifetime would take Ctrl+C and SIGTERM for itself (stopping only the agent, the run going on); the
/// bench's process handles them instead, stopping the run and removing what it made.
/// </summary>
internal sealed class SignalFreeLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
