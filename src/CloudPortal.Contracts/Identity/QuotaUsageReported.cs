namespace CloudPortal.Contracts.Identity;

/// <summary>
/// What a project uses of the quota resources one module owns (Images: <c>images</c>, <c>image_bytes</c>), counted
/// from that module's records at <paramref name="CountedAt"/>. Absolute numbers, not changes: a lost or repeated report
/// is repaired by the next one. Identity keeps the newest per resource for the quota view.
/// </summary>
public sealed record QuotaUsageReported(Guid ProjectId, string Owner, IReadOnlyList<ResourceUsage> Resources, DateTimeOffset CountedAt);

/// <param name="Reserved">Held for work in flight (an instance being built), not yet in use.</param>
public sealed record ResourceUsage(string Resource, long InUse, long Reserved);
