using MassTransit;

namespace CloudPortal.Compute.Conductor;

/// <summary>
/// How Compute consumes the answers and events about instances: a concurrent change of the same row (an API call, another
/// replica) or a database hiccup is retried from a fresh read; one instance's messages run one after another in a process
/// (partitioned by the key <see cref="Partition"/> names), different instances' in parallel.
/// </summary>
public abstract class InstanceConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    private const int Partitions = 16;

    protected InstanceConsumerDefinition(string endpoint) => EndpointName = endpoint;

    protected sealed override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(50, 200, 500, 1000, 2000, 5000));
        Partition(consumerConfigurator, endpointConfigurator.CreatePartitioner(Partitions));
    }

    /// <summary>Which key orders each message type (the instance, or for node reports the host).</summary>
    protected abstract void Partition(IConsumerConfigurator<TConsumer> consumer, IPartitioner partitioner);
}
