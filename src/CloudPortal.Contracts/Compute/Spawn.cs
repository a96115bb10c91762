namespace CloudPortal.Contracts.Compute;

/// <summary>
/// Command (→ <see cref="ComputeAgentQueue"/> of <paramref name="Host"/>): create and boot the instance. Answered with
/// <see cref="InstanceSpawned"/> or <see cref="InstanceSpawnFailed"/>. Idempotent: when the instance already exists on
/// the node with the same project, flavor and image, the answer is <see cref="InstanceSpawned"/> again and nothing is
/// created twice; a spawn that fails removes whatever it had created.
/// </summary>
/// <param name="UserData">Cloud-init style user data (base64 or text), kept with the instance for the metadata service.</param>
public sealed record SpawnInstance(
    Guid InstanceId, Guid ProjectId, string Host, FlavorSpec Flavor, ImageSource Image, string? UserData = null);

/// <summary>The instance's domain is defined and started on <paramref name="Host"/>.</summary>
/// <param name="AlreadyExisted">True when this answers a repeated spawn: the domain was there already.</param>
/// <param name="Simulated">True on a node running libvirt's simulated driver: no real virtual machine exists.</param>
public sealed record InstanceSpawned(
    Guid InstanceId, string Host, string DomainName, PowerState PowerState, bool AlreadyExisted, bool Simulated, DateTimeOffset At);

/// <summary>
/// The spawn did not happen, and the node holds nothing of it (no domain, no disk; a verified cached base image may stay).
/// </summary>
/// <param name="Code">One of <see cref="AgentFailureCodes"/>: what a caller can switch on (reschedule, give up, ...).</param>
/// <param name="Reason">One sentence for people, e.g. "flavor m1.huge needs 64 vCPUs; node node-1 has 2".</param>
public sealed record InstanceSpawnFailed(Guid InstanceId, string Host, string Code, string Reason, DateTimeOffset At);
