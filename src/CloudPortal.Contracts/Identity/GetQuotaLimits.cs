namespace CloudPortal.Contracts.Identity;

/// <summary>
/// Request (an owner → Identity): every limit of these resources, for an owner that starts, missed events or
/// checks its cache periodically. Answered with <see cref="QuotaLimitsSnapshot"/>; resources Identity does not
/// know (not in <see cref="QuotaResources"/>) are left out of the answer.
/// </summary>
public sealed record GetQuotaLimits(IReadOnlyList<string> Resources);

/// <summary>
/// Every default and every project override of the requested resources, as they stood at <paramref name="ReadAt"/>
/// on Identity's clock (the clock of <see cref="ProjectQuotaChanged.ChangedAt"/>). A change with a later
/// <c>ChangedAt</c> is not in it; every change with an earlier one is. A project with no override follows the default.
/// </summary>
/// <param name="Defaults">One per requested resource: the admin's default, else the built-in one.</param>
public sealed record QuotaLimitsSnapshot(IReadOnlyList<QuotaDefaultLimit> Defaults, IReadOnlyList<ProjectQuotaLimit> Overrides, DateTimeOffset ReadAt);

public sealed record QuotaDefaultLimit(string Resource, long Limit);

public sealed record ProjectQuotaLimit(Guid ProjectId, string Resource, long Limit);
