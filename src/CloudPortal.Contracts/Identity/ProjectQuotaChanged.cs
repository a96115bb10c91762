namespace CloudPortal.Contracts.Identity;

/// <summary>
/// A quota limit changed: a project override was set or removed (<paramref name="ProjectId"/> set), or a
/// cloud-wide default changed (<paramref name="ProjectId"/> null). <paramref name="Limit"/> is the limit now
/// in force for that scope. Owners cache limits from these events.
/// </summary>
public sealed record ProjectQuotaChanged(Guid? ProjectId, string Resource, long Limit, DateTimeOffset ChangedAt);
