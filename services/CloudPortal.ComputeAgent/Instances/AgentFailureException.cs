using CloudPortal.Contracts.Compute;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>A command that cannot be done, for a reason the caller should hear: becomes a failure event with <see cref="Code"/>.</summary>
/// <param name="code">One of <see cref="AgentFailureCodes"/>.</param>
/// <param name="reason">One sentence for people; the exception's message.</param>
public sealed class AgentFailureException(string code, string reason, PowerState? powerState = null, Exception? inner = null) : Exception(reason, inner)
{
    public string Code { get; } = code;

    /// <summary>The instance's power state when the command failed, when known.</summary>
    public PowerState? PowerState { get; } = powerState;
}
