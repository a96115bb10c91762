namespace CloudPortal.Compute.Consoles;

/// <summary>
/// A single-use ticket to one instance's VNC console through Compute's websocket proxy. Only the token's SHA-256 is
/// stored, so the table grants nothing to whoever reads it; any replica of Compute can redeem it.
/// </summary>
public sealed class ConsoleToken
{
    /// <summary>SHA-256 of the token, hex.</summary>
    public required string TokenHash { get; set; }

    public Guid InstanceId { get; set; }

    public Guid ProjectId { get; set; }

    public required string Host { get; set; }

    /// <summary>Where the node's VNC server for this instance listens (its management address).</summary>
    public required string Address { get; set; }

    public int Port { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    public DateTime? UsedAt { get; set; }
}
