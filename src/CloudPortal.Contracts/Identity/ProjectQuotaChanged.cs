namespace CloudPortal.Contracts.Identity;

/// <summary>
/// A quota limit changed: a project override was set or removed (<paramref name="ProjectId"/> set), or a
/// cloud-wide default changed (<paramref name="ProjectId"/> null). Owners cache limits from these events, and
/// repair what they missed with <see cref="GetQuotaLimits"/>; a newer <paramref name="ChangedAt"/> wins.
/// </summary>
/// <param name="Limit">
/// The limit now in force for that scope. When <paramref name="OverrideRemoved"/>, the default at the time of the
/// removal (what events before the flag existed carried): an owner that knows the flag ignores it.
/// </param>
/// <param name="OverrideRemoved">
/// The project's override was removed: from now on the project follows the cloud-wide default, including later
/// changes of it. Never set for a default (<paramref name="ProjectId"/> null).
/// </param>
public sealed record ProjectQuotaChanged(Guid? ProjectId, string Resource, long Limit, DateTimeOffset ChangedAt, bool OverrideRemoved = false);
