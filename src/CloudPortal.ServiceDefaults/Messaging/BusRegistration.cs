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
    /// The bus: RabbitMQ (quorum queues, publisher confirms) when <c>CloudPortal:Bus:RabbitMq</c> is set,
    /// otherwise the in-memory transport. Call once, after every module has been added.
    /// </summary>
    public static IHostApplicationBuilder AddCloudPortalBus(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetCloudPortalOptions().Bus;
        var registrations = Registrations(builder);
        var perProcess = PerProcessQueues(builder);

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            foreach (var register in registrations)
                register(bus);

            if (options.UsesRabbitMq)
            {
                var uri = RabbitMqAddress.Parse(options.RabbitMq!);
                bus.AddConfigureEndpointsCallback((queue, endpoint) =>
                {
                    // Commands must survive a broker node loss: quorum queues are replicated and durable.
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit && !perProcess.Contains(queue))
                        rabbit.SetQuorumQueue();
                });
                bus.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(uri, host => host.PublisherConfirmation = true);
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
