using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using MassTransit;

namespace CloudPortal.ComputeAgent.Console;

/// <summary>Console requests: the serial log's tail, and where the VNC server listens (for a console proxy).</summary>
public sealed class ConsoleConsumer(HypervisorSession session, InstanceOperations operations, AgentSettings settings) :
    IConsumer<GetConsoleLog>,
    IConsumer<GetVncEndpoint>
{
    public async Task Consume(ConsumeContext<GetConsoleLog> context)
    {
        await Task.Yield();   // the libvirt calls and the file read below block; do not hold the transport's thread
        var request = context.Message;
        try
        {
            var (connection, _) = session.Connect();
            using var domain = operations.Find(connection, request.InstanceId);
            var path = DomainXml.ConsoleLogPath(domain.GetXmlDesc())
                ?? throw new AgentFailureException(AgentFailureCodes.InstanceNotFound, $"instance {request.InstanceId} has no serial console log");
            var (output, truncated) = ConsoleLogReader.Tail(path, request.Lines);
            await context.RespondAsync(new ConsoleLog(request.InstanceId, settings.Host, output, truncated)).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unavailable(ex) is { } failure)
        {
            await context.RespondAsync(new ConsoleUnavailable(request.InstanceId, settings.Host, failure.Code, failure.Reason)).ConfigureAwait(false);
        }
    }

    public async Task Consume(ConsumeContext<GetVncEndpoint> context)
    {
        await Task.Yield();
        var request = context.Message;
        try
        {
            var (connection, _) = session.Connect();
            using var domain = operations.Find(connection, request.InstanceId);
            if (!domain.IsActive())
                throw new AgentFailureException(AgentFailureCodes.ConsoleNotRunning, $"instance {request.InstanceId} is not running, so it has no VNC console");
            // The live XML carries the port libvirt allocated at start.
            var (address, port) = DomainXml.Vnc(domain.GetXmlDesc())
                ?? throw new AgentFailureException(AgentFailureCodes.ConsoleNotRunning, $"instance {request.InstanceId} has no VNC server (the hypervisor allocated no port)");
            await context.RespondAsync(new VncEndpoint(request.InstanceId, settings.Host, address, port)).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unavailable(ex) is { } failure)
        {
            await context.RespondAsync(new ConsoleUnavailable(request.InstanceId, settings.Host, failure.Code, failure.Reason)).ConfigureAwait(false);
        }
    }

    private static (string Code, string Reason)? Unavailable(Exception ex) => ex switch
    {
        AgentFailureException failure => (failure.Code, failure.Message),
        HypervisorUnavailableException or ObjectDisposedException => (AgentFailureCodes.HypervisorUnavailable, ex.Message),
        LibvirtException => (AgentFailureCodes.HypervisorError, ex.Message),
        IOException or UnauthorizedAccessException => (AgentFailureCodes.StorageUnavailable, ex.Message),
        _ => null,
    };
}
