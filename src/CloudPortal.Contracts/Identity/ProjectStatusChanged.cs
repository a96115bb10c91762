namespace CloudPortal.Contracts.Identity;

/// <summary>
/// An admin disabled or enabled a project. Every process that serves project resources stops (or resumes) honouring
/// the project's roles in access tokens already issued: a disabled project's members act in it no more, at once, not
/// when their tokens lapse. <paramref name="ChangedAt"/> is Identity's clock, as in <see cref="DisabledProjectsSnapshot"/>.
/// </summary>
public sealed record ProjectStatusChanged(Guid ProjectId, bool Enabled, DateTimeOffset ChangedAt);

/// <summary>Request (a process serving project resources → Identity): which projects are disabled, answered with <see cref="DisabledProjectsSnapshot"/>.</summary>
public sealed record GetDisabledProjects;

/// <summary>
/// Every disabled project as it stood at <paramref name="ReadAt"/> on Identity's clock: a change with a later
/// <see cref="ProjectStatusChanged.ChangedAt"/> is not in it, every change with an earlier one is.
/// </summary>
public sealed record DisabledProjectsSnapshot(IReadOnlyList<Guid> ProjectIds, DateTimeOffset ReadAt);
