using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Storage;
using CloudPortal.Contracts.Compute;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>What an action did: the power state afterwards, whether anything changed, and how.</summary>
public sealed record ActionOutcome(PowerState PowerState, bool Changed, string Detail);

/// <summary>
/// The power actions and delete, each decided by libvirt's current state, which is what makes them idempotent: an
/// instance already in the requested state is left alone and the answer says so.
/// </summary>
public sealed class InstanceOperations(
    HypervisorSession session,
    InstanceDisks disks,
    OwnedDomains owned,
    AgentSettings settings,
    IOptions<AgentOptions> options,
    TimeProvider time)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public async Task<ActionOutcome> StopAsync(Guid instanceId, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        switch (state)
        {
            case DomainState.Shutoff when domain.HasManagedSaveImage():
                domain.ManagedSaveRemove();
                return new(PowerState.Shutdown, true, "discarded the saved memory of the suspended instance");
            case DomainState.Shutoff:
                return new(PowerState.Shutdown, false, "already stopped");
            case DomainState.Running or DomainState.Blocked or DomainState.Shutdown:
                return await ShutDownAsync(domain, timeout ?? options.Value.StopTimeout, cancellationToken).ConfigureAwait(false);
            default:
                // Paused, crashed or PM-suspended guests cannot answer the power button.
                domain.Destroy();
                return new(PowerState.Shutdown, true, $"destroyed: a {Describe(PowerStates.From(state, false))} guest cannot answer the ACPI power button");
        }
    }

    public Task<ActionOutcome> StartAsync(Guid instanceId)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        switch (state)
        {
            case DomainState.Running or DomainState.Blocked:
                return Done(new(PowerState.Running, false, "already running"));
            case DomainState.Shutoff:
                var restore = domain.HasManagedSaveImage();
                domain.Start();
                return Done(new(PowerStates.Of(domain), true, restore ? "restored the saved memory" : "booted"));
            case DomainState.Crashed:
                domain.Destroy();
                domain.Start();
                return Done(new(PowerStates.Of(domain), true, "cleared the crash and booted"));
            default:
                throw NotIn(domain, instanceId, state, "start", state == DomainState.Paused ? "unpause it" : "wait until it has stopped");
        }
    }

    public async Task<ActionOutcome> RebootAsync(Guid instanceId, bool hard, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        var suspended = state == DomainState.Shutoff && domain.HasManagedSaveImage();
        if (state == DomainState.Shutoff && !suspended)
        {
            domain.Start();
            return new(PowerStates.Of(domain), true, "booted (it was stopped)");
        }
        if (hard)
        {
            if (domain.IsActive())
                domain.Destroy();
            if (domain.HasManagedSaveImage())
                domain.ManagedSaveRemove();
            domain.Start();
            return new(PowerStates.Of(domain), true, "hard reboot: destroyed and booted");
        }
        if (state is not (DomainState.Running or DomainState.Blocked))
            throw NotIn(domain, instanceId, state, "reboot softly", suspended ? "resume it, or reboot hard" : "reboot it hard");
        // Nova's soft reboot: a clean shutdown, then a fresh boot; a guest that ignores the power button is rebooted hard.
        var wait = timeout ?? options.Value.StopTimeout;
        domain.Shutdown();
        var clean = await WaitForShutoffAsync(domain, wait, cancellationToken).ConfigureAwait(false);
        if (!clean)
            domain.Destroy();
        domain.Start();
        return new(PowerStates.Of(domain), true, clean
            ? "soft reboot: the guest shut down and was booted again"
            : $"hard reboot: the guest ignored the ACPI power button for {wait.TotalSeconds:0.#} s");
    }

    public Task<ActionOutcome> PauseAsync(Guid instanceId)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        if (state == DomainState.Paused)
            return Done(new(PowerState.Paused, false, "already paused"));
        if (state is not (DomainState.Running or DomainState.Blocked))
            throw NotIn(domain, instanceId, state, "pause", "start it first");
        domain.Suspend();
        return Done(new(PowerStates.Of(domain), true, "vCPUs paused"));
    }

    public Task<ActionOutcome> UnpauseAsync(Guid instanceId)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        if (state is DomainState.Running or DomainState.Blocked)
            return Done(new(PowerState.Running, false, "already running"));
        if (state != DomainState.Paused)
            throw NotIn(domain, instanceId, state, "unpause", "only a paused instance can be unpaused");
        domain.Resume();
        return Done(new(PowerStates.Of(domain), true, "vCPUs resumed"));
    }

    public Task<ActionOutcome> SuspendAsync(Guid instanceId)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        if (state == DomainState.Shutoff && domain.HasManagedSaveImage())
            return Done(new(PowerState.Suspended, false, "already suspended"));
        if (state is not (DomainState.Running or DomainState.Blocked))
            throw NotIn(domain, instanceId, state, "suspend", state == DomainState.Paused ? "unpause it first" : "only a running instance can be suspended");
        domain.ManagedSave();
        return Done(new(PowerStates.Of(domain), true, "memory saved to disk and the domain stopped"));
    }

    public Task<ActionOutcome> ResumeAsync(Guid instanceId)
    {
        var (connection, _) = session.Connect();
        using var domain = Find(connection, instanceId);
        var state = domain.GetState().State;
        if (state is DomainState.Running or DomainState.Blocked)
            return Done(new(PowerState.Running, false, "already running"));
        if (state != DomainState.Shutoff || !domain.HasManagedSaveImage())
            throw NotIn(domain, instanceId, state, "resume", state == DomainState.Paused ? "unpause it" : "only a suspended instance can be resumed; start it");
        domain.Start();
        return Done(new(PowerStates.Of(domain), true, "restored the saved memory"));
    }

    /// <summary>Destroys and undefines the domain, deletes its overlay and console log. The base image stays.</summary>
    public Task<ActionOutcome> DeleteAsync(Guid instanceId)
    {
        var (connection, hypervisor) = session.Connect();
        using var domain = connection.LookupDomainByUuid(instanceId);
        if (domain is null)
        {
            // A disk left without its domain (a spawn that died halfway, before the rollback could run).
            var removed = disks.DeleteOverlay(connection, instanceId);
            DeleteConsoleLogs(ConsoleLogOf(instanceId, null));
            return removed
                ? Done(new(PowerState.NoState, true, "removed a disk left without its domain"))
                : throw new AgentFailureException(AgentFailureCodes.InstanceNotFound, $"node {settings.Host} has no instance {instanceId}", PowerState.NoState);
        }
        Own(domain, instanceId);
        var xml = domain.GetXmlDesc();
        if (domain.IsActive())
            domain.Destroy();
        domain.Undefine(InstanceSpawner.UndefineFlags(hypervisor));
        disks.DeleteOverlay(connection, instanceId);
        DeleteConsoleLogs(ConsoleLogOf(instanceId, xml));
        return Done(new(PowerState.NoState, true, "destroyed the domain and removed its definition, disk and console log"));
    }

    /// <summary>The instance's domain; fails when the node has none, or when it belongs to another agent.</summary>
    public LibvirtDomain Find(LibvirtConnection connection, Guid instanceId)
    {
        var domain = connection.LookupDomainByUuid(instanceId)
            ?? throw new AgentFailureException(AgentFailureCodes.InstanceNotFound, $"node {settings.Host} has no instance {instanceId}", PowerState.NoState);
        try
        {
            Own(domain, instanceId);
            return domain;
        }
        catch
        {
            domain.Dispose();
            throw;
        }
    }

    /// <summary>The power state libvirt reports now, for failure events; null when it cannot be read.</summary>
    public PowerState? CurrentPowerState(Guid instanceId)
    {
        try
        {
            var (connection, _) = session.Connect();
            using var domain = connection.LookupDomainByUuid(instanceId);
            return domain is null ? PowerState.NoState : PowerStates.Of(domain);
        }
        catch (Exception ex) when (ex is LibvirtException or HypervisorUnavailableException or ObjectDisposedException)
        {
            return null;
        }
    }

    private void Own(LibvirtDomain domain, Guid instanceId)
    {
        if (owned.Read(domain) is null)
            throw new AgentFailureException(AgentFailureCodes.DomainConflict,
                $"libvirt domain '{domain.Name}' with UUID {instanceId} is not an instance of node {settings.Host}", PowerStates.Of(domain));
    }

    private string ConsoleLogOf(Guid instanceId, string? xml) =>
        (xml is null ? null : DomainXml.ConsoleLogPath(xml)) ?? Path.Combine(settings.ConsolePath, $"{instanceId:D}.log");

    /// <summary>The log and the rotated copies virtlogd keeps beside it (<c>.0</c>, <c>.1</c>, ...).</summary>
    private static void DeleteConsoleLogs(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (directory is null || !Directory.Exists(directory))
            return;
        foreach (var file in Directory.EnumerateFiles(directory, Path.GetFileName(path) + "*"))
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Best effort: a log is no reason to fail a delete.
            }
        }
    }

    private async Task<bool> WaitForShutoffAsync(LibvirtDomain domain, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        while (true)
        {
            if (!domain.IsActive())
                return true;
            if (time.GetUtcNow() >= deadline)
                return false;
            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ActionOutcome> ShutDownAsync(LibvirtDomain domain, TimeSpan timeout, CancellationToken cancellationToken)
    {
        domain.Shutdown();
        if (await WaitForShutoffAsync(domain, timeout, cancellationToken).ConfigureAwait(false))
            return new(PowerState.Shutdown, true, "the guest shut down (ACPI power button)");
        domain.Destroy();
        return new(PowerState.Shutdown, true, $"forced off: the guest ignored the ACPI power button for {timeout.TotalSeconds:0.#} s");
    }

    private static AgentFailureException NotIn(LibvirtDomain domain, Guid instanceId, DomainState state, string action, string hint)
    {
        var power = PowerStates.Of(domain);
        var now = state == DomainState.Shutdown ? "shutting down" : Describe(power);
        return new(AgentFailureCodes.InvalidState, $"cannot {action} instance {instanceId}: it is {now}; {hint}", power);
    }

    private static string Describe(PowerState state) => state switch
    {
        PowerState.Shutdown => "stopped",
        PowerState.NoState => "in no known state",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static Task<ActionOutcome> Done(ActionOutcome outcome) => Task.FromResult(outcome);
}
