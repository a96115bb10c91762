using System.Collections.Concurrent;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace CloudPortal.Scheduler.Tests.Placement;

/// <summary>
/// The Scheduler's request/response consumers on a real RabbitMQ, wired as the module wires them (the platform's bus:
/// quorum queues, publisher confirms) over a real PostgreSQL database, and asked the way their callers ask: Compute
/// sends <see cref="SelectHosts"/> through its outbox to the queue and expects the answer published; the portal and the
/// EC2 layer make requests. The in-memory harness of <see cref="PlacementConsumerTests"/> cannot show serialization,
/// queue bindings, published answers or how a fault travels back.
/// </summary>
public sealed class SchedulerOverRabbitMqTests
{
    private static readonly PlacementResources Small = new(2, 4096, 20);

    [Fact]
    public async Task Each_request_is_answered_over_RabbitMQ_and_a_malformed_one_faults_at_once()
    {
        await using var database = await SchedulerDatabase.CreateAsync("postgres");
        await using var rabbitMq = await TestRabbitMq.CreateAsync();
        await database.AddNodeAsync("node-1", 4, 16384, 200, n => n.MoveToZone("az-1"));
        await database.AddNodeAsync("node-2", 4, 8192, 200, n => n.MoveToZone("az-2"));
        await database.AddNodeAsync("node-3", 4, 8192, 200, n => { n.MoveToZone("az-3"); n.Disable("maintenance"); });
        using var scheduler = await StartSchedulerAsync(database, rabbitMq);
        await using var caller = await Caller.StartAsync(rabbitMq.Uri());
        var project = Guid.NewGuid();

        // Requests, as the conductor's retries and the tests' callers make them.
        var first = Guid.NewGuid();
        var selected = await caller.Select(new SelectHosts(first, project, Small));
        Assert.True(selected.Is(out Response<HostsSelected>? claim));
        Assert.Equal(("node-1", Small), (claim!.Message.Host, claim.Message.Claimed));
        Assert.Equal("node-2", Assert.Single(claim.Message.Alternates));   // node-3 is disabled
        Assert.Equal(4096, (await database.NodeAsync("node-1")).UsedMemoryMb);

        var tooBig = await caller.Select(new SelectHosts(Guid.NewGuid(), project, new PlacementResources(2, 65536, 20), "az-1"));
        Assert.True(tooBig.Is(out Response<NoValidHost>? refusal));
        Assert.Equal("no host in az-1 has 65536 MB RAM free: largest free is 12288 MB", refusal!.Message.Reason);
        Assert.Equal(3, refusal.Message.HostsConsidered);

        // Sent to the queue with no response address, as Compute's outbox sends: the answer is published.
        var sent = Guid.NewGuid();
        var endpoint = await caller.Bus.GetSendEndpoint(SchedulerQueues.Address(SchedulerQueues.SelectHosts));
        await endpoint.Send(new SelectHosts(sent, project, Small, "az-2"), TestContext.Current.CancellationToken);
        var published = await caller.PublishedAnswerAsync(sent);
        Assert.Equal("node-2", Assert.IsType<HostsSelected>(published).Host);

        var nowhere = Guid.NewGuid();
        await endpoint.Send(new SelectHosts(nowhere, project, Small, "az-3"), TestContext.Current.CancellationToken);
        Assert.StartsWith("no host in az-3 is accepting new instances", Assert.IsType<NoValidHost>(await caller.PublishedAnswerAsync(nowhere)).Reason);

        // The launch wizard's fit check and EC2's zone list.
        var fit = await caller.Request<CheckFit, FitReport>(new CheckFit(project, "az-1", [new FlavorToFit("m1.small", Small)]));
        Assert.Equal(new[] { new FlavorFit("m1.small", 3, null) }, fit.Flavors);   // node-1: 12288 MB RAM left after the first claim
        var zones = await caller.Request<ListAvailabilityZones, AvailabilityZoneList>(new ListAvailabilityZones());
        Assert.Equal(new AvailabilityZoneState[] { new("az-1", true), new("az-2", true), new("az-3", false) }, zones.Zones);

        // Release, through its queue as the outbox sends it, answered to a request.
        var released = await caller.Request<ReleaseAllocation, AllocationReleased>(new ReleaseAllocation(first));
        Assert.Equal(new AllocationReleased(first, "node-1", Small), released);
        Assert.Equal(0, (await database.NodeAsync("node-1")).UsedMemoryMb);

        // A malformed request will not get better: the caller gets the fault rather than a timeout, and nothing is claimed.
        var malformed = Guid.NewGuid();
        var fault = await Assert.ThrowsAsync<RequestFaultException>(() => caller.Select(new SelectHosts(malformed, project, new PlacementResources(-1, 4096, 20))));
        Assert.Contains("resources cannot be negative", fault.Fault!.Exceptions.Single().Message, StringComparison.Ordinal);
        Assert.False(await database.WithDbAsync(db => db.Allocations.AnyAsync(a => a.ConsumerId == malformed)));

        // The commands' queues survive a broker node loss.
        Assert.Equal("quorum", await rabbitMq.QueueTypeAsync(SchedulerQueues.SelectHosts));
        Assert.Equal("quorum", await rabbitMq.QueueTypeAsync(SchedulerQueues.ReleaseAllocation));
    }

    /// <summary>A host with only the Scheduler's bus side, registered as <see cref="SchedulerModule"/> registers it.</summary>
    private static async Task<IHost> StartSchedulerAsync(SchedulerDatabase database, TestRabbitMq rabbitMq)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["CloudPortal:Bus:RabbitMq"] = rabbitMq.Uri();
        database.AddTo(builder.Services);
        builder.Services.Configure<SchedulerOptions>(o => o.HostSubsetSize = 1);   // the best host, not one of the best three
        builder.AddConsumers(SchedulerModule.AddSchedulerConsumers);
        builder.AddCloudPortalBus();
        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    /// <summary>A caller's bus: request clients, and an endpoint that receives the answers the Scheduler publishes.</summary>
    private sealed class Caller : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<object>> _answers = new();

        private Caller(ServiceProvider services) => _services = services;

        public IBus Bus => _services.GetRequiredService<IBus>();

        public static async Task<Caller> StartAsync(string rabbitMqUri)
        {
            var services = new ServiceCollection();
            Caller? caller = null;
            services.AddMassTransit(bus =>
            {
                bus.AddRequestClient<SelectHosts>(SchedulerQueues.Address(SchedulerQueues.SelectHosts), RequestTimeout.After(s: 30));
                bus.AddRequestClient<ReleaseAllocation>(SchedulerQueues.Address(SchedulerQueues.ReleaseAllocation), RequestTimeout.After(s: 30));
                bus.AddRequestClient<CheckFit>(RequestTimeout.After(s: 30));
                bus.AddRequestClient<ListAvailabilityZones>(RequestTimeout.After(s: 30));
                bus.UsingRabbitMq((_, cfg) =>
                {
                    cfg.Host(new Uri(rabbitMqUri));
                    cfg.ReceiveEndpoint($"test-placement-answers-{Guid.NewGuid():N}", e =>
                    {
                        e.Handler<HostsSelected>(c => caller!.Answered(c.Message.ConsumerId, c.Message));
                        e.Handler<NoValidHost>(c => caller!.Answered(c.Message.ConsumerId, c.Message));
                    });
                });
            });
            var provider = services.BuildServiceProvider();
            caller = new Caller(provider);
            await provider.GetRequiredService<IBusControl>().StartAsync(TestContext.Current.CancellationToken);
            return caller;
        }

        public Task<Response<HostsSelected, NoValidHost>> Select(SelectHosts request) =>
            _services.GetRequiredService<IRequestClient<SelectHosts>>().GetResponse<HostsSelected, NoValidHost>(request, TestContext.Current.CancellationToken);

        public async Task<TResponse> Request<TRequest, TResponse>(TRequest request) where TRequest : class where TResponse : class =>
            (await _services.GetRequiredService<IRequestClient<TRequest>>().GetResponse<TResponse>(request, TestContext.Current.CancellationToken)).Message;

        public Task<object> PublishedAnswerAsync(Guid consumerId) =>
            Waiter(consumerId).Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        private Task Answered(Guid consumerId, object answer)
        {
            Waiter(consumerId).TrySetResult(answer);
            return Task.CompletedTask;
        }

        private TaskCompletionSource<object> Waiter(Guid consumerId) =>
            _answers.GetOrAdd(consumerId, _ => new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously));

        public async ValueTask DisposeAsync()
        {
            await _services.GetRequiredService<IBusControl>().StopAsync();
            await _services.DisposeAsync();
        }
    }
}
