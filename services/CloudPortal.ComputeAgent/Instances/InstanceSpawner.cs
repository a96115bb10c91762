using System.Diagnostics;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Storage;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>
/// Turns a <see cref="SpawnInstance"/> into a running domain: checks, image cache, overlay, domain XML, define, start.
/// What it created is removed again when a later step fails, so a failed spawn leaves no domain and no disk.
/// </summary>
public sealed partial class InstanceSpawner(
    HypervisorSession session,
    ImageCache images,
    InstanceDisks disks,
    StoragePools pools,
    OwnedDomains owned,
    AgentSettings settings,
    IOptions<AgentOptions> options,
    TimeProvider time,
    ILogger<InstanceSpawner> log)
{
    /// <exception cref="AgentFailureException">The spawn cannot be done; nothing of it is left on the node.</exception>
    public async Task<InstanceSpawned> SpawnAsync(SpawnInstance command, CancellationToken cancellationToken)
    {
        var started = Stopwatch.StartNew();
        ValidateFlavor(command.Flavor);
        ImageCache.Validate(command.Image);
        var (connection, hypervisor) = session.Connect();
        var id = command.InstanceId;
        var name = DomainXml.DomainName(id);

        if (Existing(connection, command) is { } existing)
            return existing with { Simulated = hypervisor.Simulated };

        CheckFitsNode(connection, command.Flavor);
        var baseImage = await images.EnsureAsync(connection, command.Image, cancellationToken).ConfigureAwait(false);
        var rootBytes = (ulong)command.Flavor.RootGb * InstanceDisks.GiB;
        if (rootBytes < baseImage.VirtualSizeBytes)
            throw new AgentFailureException(AgentFailureCodes.FlavorDiskTooSmall,
                $"image {command.Image.ImageId} needs a {Math.Ceiling(baseImage.VirtualSizeBytes / (double)InstanceDisks.GiB)} GiB root disk; flavor {command.Flavor.Name} has {command.Flavor.RootGb} GiB");

        var metadata = new InstanceMetadata(id, command.ProjectId, settings.Host, command.Flavor, command.Image.ImageId, command.Image.Sha256.ToLowerInvariant(), time.GetUtcNow());
        var consoleLog = ConsoleLogPath(id);
        var overlayCreated = false;
        LibvirtDomain? domain = null;
        try
        {
            var diskPath = disks.CreateOverlay(connection, id, baseImage, rootBytes);
            overlayCreated = true;
            DataDirectory.CreateForQemu(settings.ConsolePath);
            var xml = DomainXml.Build(new DomainDefinition(hypervisor.DomainType, metadata, diskPath, consoleLog, options.Value.ManagementAddress, command.UserData));
            owned.Remember(metadata);
            domain = connection.DefineDomain(xml);
            domain.Start();
            var state = PowerStates.Of(domain);
            LogSpawned(log, id, name, state, started.Elapsed.TotalSeconds, hypervisor.DomainType);
            return new InstanceSpawned(id, settings.Host, name, state, AlreadyExisted: false, hypervisor.Simulated, time.GetUtcNow());
        }
        catch (Exception ex)
        {
            LogRollingBack(log, id, ex.Message);
            RemoveDomain(domain, hypervisor);
            if (overlayCreated)
                Try(() => disks.DeleteOverlay(connection, id));
            Try(() => File.Delete(consoleLog));
            if (ex is LibvirtException libvirt)
                throw new AgentFailureException(AgentFailureCodes.HypervisorError, $"libvirt could not create instance {id}: {libvirt.LibvirtMessage ?? libvirt.Message}", inner: libvirt);
            if (ex is IOException or UnauthorizedAccessException)
                throw new AgentFailureException(AgentFailureCodes.StorageUnavailable, $"cannot prepare the console log {consoleLog}: {ex.Message}", inner: ex);
            throw;
        }
        finally
        {
            domain?.Dispose();
        }
    }

    public string ConsoleLogPath(Guid instanceId) => Path.Combine(settings.ConsolePath, $"{instanceId:D}.log");

    /// <summary>
    /// A repeated spawn: the same instance again is answered as spawned (a domain that was defined but never booted is
    /// booted now); anything else holding the name or UUID is a conflict, and nothing is touched.
    /// </summary>
    private InstanceSpawned? Existing(LibvirtConnection connection, SpawnInstance command)
    {
        var id = command.InstanceId;
        var name = DomainXml.DomainName(id);
        using var byUuid = connection.LookupDomainByUuid(id);
        using var byName = connection.LookupDomainByName(name);
        if (byUuid is null && byName is null)
            return null;
        if (byUuid is null || byName is null || byUuid.Name != name)
            throw new AgentFailureException(AgentFailureCodes.DomainConflict, byUuid is null
                ? $"libvirt domain {name} exists with UUID {byName!.Uuid}, not {id}"
                : $"UUID {id} belongs to libvirt domain '{byUuid.Name}'");
        var domain = byUuid;
        var metadata = owned.Read(domain)
            ?? throw new AgentFailureException(AgentFailureCodes.DomainConflict, $"libvirt domain {name} exists but is not an instance of node {settings.Host}");
        if (metadata.ProjectId != command.ProjectId || metadata.Flavor != command.Flavor || metadata.ImageId != command.Image.ImageId)
            throw new AgentFailureException(AgentFailureCodes.InstanceExists,
                $"instance {id} already exists on node {settings.Host} with project {metadata.ProjectId}, flavor {metadata.Flavor.Name} ({metadata.Flavor.VCpus} vCPUs, {metadata.Flavor.RamMb} MB, {metadata.Flavor.RootGb} GB) and image {metadata.ImageId}",
                PowerStates.Of(domain));
        var state = domain.GetState();
        // Shut off for reason "unknown" means never booted: the earlier spawn stopped between define and start.
        if (state is { State: DomainState.Shutoff, Reason: 0 } && !domain.HasManagedSaveImage())
            domain.Start();
        var power = PowerStates.Of(domain);
        LogAlreadyExists(log, id, power);
        return new InstanceSpawned(id, settings.Host, name, power, AlreadyExisted: true, Simulated: false, time.GetUtcNow());
    }

    private static void ValidateFlavor(FlavorSpec? flavor)
    {
        if (flavor is null)
            throw new AgentFailureException(AgentFailureCodes.InvalidFlavor, "the command has no flavor");
        if (flavor.VCpus < 1 || flavor.RamMb < 16 || flavor.RootGb < 1)
            throw new AgentFailureException(AgentFailureCodes.InvalidFlavor,
                $"flavor {flavor.Name} ({flavor.VCpus} vCPUs, {flavor.RamMb} MB RAM, {flavor.RootGb} GB disk) needs at least 1 vCPU, 16 MB RAM and 1 GB disk");
    }

    /// <summary>A flavor bigger than the whole node can never run here, whatever else runs.</summary>
    private void CheckFitsNode(LibvirtConnection connection, FlavorSpec flavor)
    {
        var node = connection.GetNodeInfo();
        if (flavor.VCpus > node.Cpus)
            throw new AgentFailureException(AgentFailureCodes.FlavorTooLarge, $"flavor {flavor.Name} needs {flavor.VCpus} vCPUs; node {settings.Host} has {node.Cpus}");
        var memoryMb = (long)(node.MemoryKiB / 1024);
        if (flavor.RamMb > memoryMb)
            throw new AgentFailureException(AgentFailureCodes.FlavorTooLarge, $"flavor {flavor.Name} needs {flavor.RamMb} MB RAM; node {settings.Host} has {memoryMb} MB");
        using var pool = pools.Instances(connection);
        var diskGb = pool.GetInfo().CapacityBytes / InstanceDisks.GiB;
        if ((ulong)flavor.RootGb > diskGb)
            throw new AgentFailureException(AgentFailureCodes.FlavorTooLarge, $"flavor {flavor.Name} needs a {flavor.RootGb} GB root disk; node {settings.Host}'s instance storage has {diskGb} GB");
    }

    internal static void RemoveDomain(LibvirtDomain? domain, HypervisorInfo hypervisor)
    {
        if (domain is null)
            return;
        Try(() =>
        {
            if (domain.IsActive())
                domain.Destroy();
        });
        Try(() => domain.Undefine(UndefineFlags(hypervisor)));
    }

    /// <summary>Removes saved memory with the definition; the test driver refuses the NVRAM flag.</summary>
    internal static DomainUndefineFlags UndefineFlags(HypervisorInfo hypervisor) =>
        hypervisor.Simulated ? DomainUndefineFlags.ManagedSave : DomainUndefineFlags.ManagedSave | DomainUndefineFlags.Nvram;

    private static void Try(Action cleanup)
    {
        try
        {
            cleanup();
        }
        catch (Exception ex) when (ex is LibvirtException or IOException or UnauthorizedAccessException or AgentFailureException)
        {
            // Cleanup is best effort; the failure being reported matters more.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Spawned instance {InstanceId} as domain {Domain} ({DomainType}): {PowerState} after {Seconds:0.00} s")]
    private static partial void LogSpawned(ILogger logger, Guid instanceId, string domain, PowerState powerState, double seconds, string domainType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {InstanceId} already exists ({PowerState}); answering the repeated spawn without creating anything")]
    private static partial void LogAlreadyExists(ILogger logger, Guid instanceId, PowerState powerState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spawn of instance {InstanceId} failed ({Reason}); removing what it created")]
    private static partial void LogRollingBack(ILogger logger, Guid instanceId, string reason);
}
