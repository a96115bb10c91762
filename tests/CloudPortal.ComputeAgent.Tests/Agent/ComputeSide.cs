using CloudPortal.Contracts.Compute;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>What Compute does with an agent: send commands to its queue, make requests, hear its events.</summary>
internal sealed class ComputeSide(IBus bus, BusRecorder events, string host)
{
    public BusRecorder Events => events;

    public string Host => host;

    public async Task SendAsync<T>(T command) where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var endpoint = await bus.GetSendEndpoint(ComputeAgentQueue.Address(host));
        await endpoint.Send(command, timeout.Token);
    }

    /// <summary>Sends the spawn and expects it to succeed.</summary>
    public async Task<InstanceSpawned> SpawnAsync(SpawnInstance spawn)
    {
        await SendAsync(spawn);
        var answer = await events.SpawnAnswerAsync(spawn.InstanceId);
        return answer as InstanceSpawned ?? throw new Xunit.Sdk.XunitException($"spawn of {spawn.InstanceId} failed: {answer}");
    }

    public async Task<InstanceSpawnFailed> SpawnFailureAsync(SpawnInstance spawn)
    {
        await SendAsync(spawn);
        var answer = await events.SpawnAnswerAsync(spawn.InstanceId);
        return answer as InstanceSpawnFailed ?? throw new Xunit.Sdk.XunitException($"spawn of {spawn.InstanceId} was expected to fail but answered {answer}");
    }

    /// <summary>Sends an action and expects it to complete.</summary>
    public async Task<InstanceActionCompleted> ActAsync<T>(T command, Guid instanceId, InstanceAction action) where T : class
    {
        await SendAsync(command);
        return await events.CompletedAsync(instanceId, action);
    }

    public async Task<InstanceActionFailed> ActFailingAsync<T>(T command, Guid instanceId, InstanceAction action) where T : class
    {
        await SendAsync(command);
        return await events.FailedAsync(instanceId, action);
    }

    /// <summary>A request to the agent's queue, answered with <typeparamref name="TOk"/> or <see cref="ConsoleUnavailable"/>.</summary>
    public async Task<object> RequestAsync<TRequest, TOk>(TRequest request) where TRequest : class where TOk : class
    {
        var client = bus.CreateRequestClient<TRequest>(ComputeAgentQueue.Address(host), RequestTimeout.After(s: 30));
        var response = await client.GetResponse<TOk, ConsoleUnavailable>(request, TestContext.Current.CancellationToken);
        return response.Is(out Response<TOk>? ok) ? ok!.Message : response.Is(out Response<ConsoleUnavailable>? no) ? no!.Message : throw new InvalidOperationException("unexpected response");
    }
}

/// <summary>The test's own bus on a RabbitMQ virtual host, playing Compute: it outlives the agent's restarts.</summary>
internal sealed class ComputeStandIn : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ComputeStandIn(ServiceProvider services, ComputeSide side)
    {
        _services = services;
        Side = side;
    }

    public ComputeSide Side { get; }

    public static async Task<ComputeStandIn> StartAsync(string rabbitMqUri, string agentHost)
    {
        var recorder = new BusRecorder();
        var services = new ServiceCollection();
        services.AddSingleton(recorder);
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<RecordingConsumer>().Endpoint(e => e.Name = $"compute-stand-in-{Guid.NewGuid():N}");
            bus.UsingRabbitMq((context, cfg) =>
            {
                cfg.Host(new Uri(rabbitMqUri));
                cfg.ConfigureEndpoints(context);
            });
        });
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IBusControl>().StartAsync(TestContext.Current.CancellationToken);
        return new ComputeStandIn(provider, new ComputeSide(provider.GetRequiredService<IBus>(), recorder, agentHost));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.GetRequiredService<IBusControl>().StopAsync();
        await _services.DisposeAsync();
    }
}
