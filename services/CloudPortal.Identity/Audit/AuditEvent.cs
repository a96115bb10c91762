namespace CloudPortal.Identity.Audit;

/// <summary>Who did what to whom, when and from where.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    public DateTime At { get; set; }

    /// <summary>A stable verb, e.g. <c>signin.succeeded</c>, <c>quota.changed</c>, <c>accesskey.created</c>.</summary>
    public required string Action { get; set; }

    public Guid? ActorId { get; set; }

    public string? ActorName { get; set; }

    public Guid? ProjectId { get; set; }

    /// <summary>What the action was applied to (a user name, a resource, an access key id).</summary>
    public string? Target { get; set; }

    public bool Success { get; set; }

    public string? RemoteAddress { get; set; }

    public string? Detail { get; set; }
}
