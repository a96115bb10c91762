namespace CloudPortal.Contracts.Compute;

/// <summary>Request (→ the node's queue): the last <paramref name="Lines"/> lines of the serial console log. Answered with <see cref="ConsoleLog"/> or <see cref="ConsoleUnavailable"/>.</summary>
public sealed record GetConsoleLog(Guid InstanceId, string Host, int Lines = 100);

/// <param name="Output">The lines, joined with <c>\n</c>; empty before the guest wrote anything.</param>
/// <param name="Truncated">True when the log holds more than was returned.</param>
public sealed record ConsoleLog(Guid InstanceId, string Host, string Output, bool Truncated);

/// <summary>Request (→ the node's queue): where the instance's VNC server listens, for a console proxy. Answered with <see cref="VncEndpoint"/> or <see cref="ConsoleUnavailable"/>.</summary>
public sealed record GetVncEndpoint(Guid InstanceId, string Host);

/// <param name="Address">The node's management address the VNC server listens on.</param>
public sealed record VncEndpoint(Guid InstanceId, string Host, string Address, int Port);

/// <summary>Response to <see cref="GetConsoleLog"/> or <see cref="GetVncEndpoint"/>: no console to give.</summary>
/// <param name="Code">One of <see cref="AgentFailureCodes"/>.</param>
public sealed record ConsoleUnavailable(Guid InstanceId, string Host, string Code, string Reason);
