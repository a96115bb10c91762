using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Configuration;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Messaging;

public static class BusRegistration
{
    /// <summary>
    /// Lets a module add its consumers. MassTransit allows one <c>AddMassTransit</c> per container, so
    /// modules contribute here and <see cref="AddCloudPortalBus"/> applies them all.
    /// </summary>
    public static IHostApplicationBuilder AddConsumers(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> register)
    {
        Registrations(builder).Add(register);
        return builder;
    }

    /// <summary>
    /// A consumer that every process hosting it must see every message of (a fan-out, such as the portal's live
    /// views): its queue is this process's own, named <paramref name="queuePrefix"/> plus a random suffix,
    /// auto-deleted when the process goes, and a classic queue (a quorum queue cannot be temporary).
    /// </summary>
    public static IHostApplicationBuilder AddPerProcessConsumer<TConsumer>(this IHostApplicationBuilder builder, string queuePrefix)
        where TConsumer : class, IConsumer
    {
        var queue = $"{queuePrefix}-{Environment.MachineName.ToLowerInvariant()}-{Guid.NewGuid():N}";
        PerProcessQueues(builder).Add(queue);
        return builder.AddConsumers(bus => bus.AddConsumer<TConsumer>().Endpoint(e =>
        {
            e.Name = queue;
            e.Temporary = true;
        }));
    }

    /// <summary>
    /// Names this process's bus endpoint (where answers to its requests arrive) instead of MassTransit's generated
    /// name: a compute node's user may only touch queues named after its node (<see cref="NodeIdentity"/>).
    /// </summary>
    public static IHostApplicationBuilder UseBusEndpointName(this IHostApplicationBuilder builder, string name)
    {
        builder.Properties[BusEndpointKey] = name;
        return builder;
    }

    /// <summary>
    /// The bus: RabbitMQ (quorum queues, publisher confirms) when <c>CloudPortal:Bus:RabbitMq</c> is set,
    /// otherwise the in-memory transport. Call once, after every module has been added.
    /// </summary>
    public static IHostApplicationBuilder AddCloudPortalBus(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetCloudPortalOptions().Bus;
        var registrations = Registrations(builder);
        var perProcess = PerProcessQueues(builder);
        var busEndpoint = builder.Properties.TryGetValue(BusEndpointKey, out var name) ? (string)name : null;

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            foreach (var register in registrations)
                register(bus);
            DeadLetters.DeadLetterCapture.Configure(bus, options.UsesRabbitMq);

            if (options.UsesRabbitMq)
            {
                var uri = RabbitMqAddress.Parse(options.RabbitMq!);
                var user = RabbitMqAddress.UserName(uri);
                builder.Services.AddSingleton(new NodeReportSenders(RabbitMqAddress.VirtualHost(uri)));
                bus.AddConfigureEndpointsCallback((queue, endpoint) =>
                {
                    // Commands must survive a broker node loss: quorum queues are replicated and durable.
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit && !perProcess.Contains(queue))
                        rabbit.SetQuorumQueue();
                });
                bus.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(uri, host => host.PublisherConfirmation = true);
                    if (busEndpoint is not null)
                        cfg.OverrideDefaultBusEndpointQueueName(busEndpoint);
                    // Every message carries its publisher's user, which RabbitMQ validates: consumers can tell who sent it.
                    cfg.ConfigureSend(send => send.UseSendExecute(c => StampUser(c, user)));
                    cfg.ConfigurePublish(publish => publish.UseExecute(c => StampUser(c, user)));
                    cfg.UseConsumeFilter(typeof(NodeReportOrigin<>), context);
                    cfg.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            }
        });

        builder.Services.AddOptions<MassTransitHostOptions>().Configure(host =>
        {
            // Start (and fail) with the host rather than silently in the background.
            host.WaitUntilStarted = true;
            host.StartTimeout = TimeSpan.FromSeconds(30);
            host.StopTimeout = TimeSpan.FromSeconds(15);
        });
        return builder;
    }

    /// <summary>
    /// Sets <c>user_id</c> to the connection's user. Not on commands to a node: a node moves a message it cannot handle
    /// to its <c>_error</c> queue with the properties it came with, and RabbitMQ refuses a foreign <c>user_id</c> from a
    /// node (only the control plane's user carries the impersonator tag). Only the control plane may write to a node's
    /// queue anyway, so a node has nothing to check there.
    /// </summary>
    private static void StampUser(SendContext context, string user)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit)
            && context.DestinationAddress?.AbsolutePath.Split('/')[^1].StartsWith(ComputeAgentQueue.Prefix, StringComparison.Ordinal) != true)
            rabbit.BasicProperties.UserId = user;
    }

    private const string BusEndpointKey = "CloudPortal:BusEndpointName";

    private static HashSet<string> PerProcessQueues(IHostApplicationBuilder builder)
    {
        if (!builder.Properties.TryGetValue(typeof(HashSet<string>), out var set))
            builder.Properties[typeof(HashSet<string>)] = set = new HashSet<string>(StringComparer.Ordinal);
        return (HashSet<string>)set;
    }

    private static List<Action<IBusRegistrationConfigurator>> Registrations(IHostApplicationBuilder builder)
    {
        if (!builder.Properties.TryGetValue(typeof(BusRegistration), out var list))
            builder.Properties[typeof(BusRegistration)] = list = new List<Action<IBusRegistrationConfigurator>>();
        return (List<Action<IBusRegistrationConfigurator>>)list;
    }
}
