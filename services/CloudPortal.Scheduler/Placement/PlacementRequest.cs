using System.Collections.Frozen;
using CloudPortal.Contracts.Scheduler;

namespace CloudPortal.Scheduler.Placement;

/// <summary>A request to place one instance, normalised for the filters and weighers.</summary>
public sealed record PlacementRequest(Guid ConsumerId, Guid ProjectId, PlacementResources Resources)
{
    private static readonly FrozenDictionary<string, string> NoProperties = FrozenDictionary<string, string>.Empty;

    public string? AvailabilityZone { get; init; }

    /// <summary>The server group the instance joins, or null.</summary>
    public Guid? ServerGroupId { get; init; }

    /// <summary>One of <see cref="ServerGroupPolicies"/>, or null when the instance is in no group.</summary>
    public string? ServerGroupPolicy { get; init; }

    /// <summary>How many of the group's other members run on each host.</summary>
    public IReadOnlyDictionary<string, int> GroupMembersByHost { get; init; } = FrozenDictionary<string, int>.Empty;

    public IReadOnlyDictionary<string, string> ImageProperties { get; init; } = NoProperties;

    public IReadOnlyDictionary<string, string> FlavorExtraSpecs { get; init; } = NoProperties;

    public IReadOnlySet<string> AvoidHosts { get; init; } = FrozenSet<string>.Empty;

    public bool Resize { get; init; }

    public int MembersOn(string host) => GroupMembersByHost.TryGetValue(host, out var count) ? count : 0;

    /// <summary>" in az-1" when the request names a zone, else "": for sentences like "no host in az-1 has …".</summary>
    public string Where => AvailabilityZone is null ? "" : $" in {AvailabilityZone}";

    public static PlacementRequest From(SelectHosts message)
    {
        ArgumentNullException.ThrowIfNull(message);
        Validate(message.Resources);
        var group = message.ServerGroup;
        if (group is not null && group.Policy is not (ServerGroupPolicies.Affinity or ServerGroupPolicies.AntiAffinity or ServerGroupPolicies.SoftAffinity or ServerGroupPolicies.SoftAntiAffinity))
            throw new ArgumentException($"unknown server group policy '{group.Policy}'", nameof(message));
        return new PlacementRequest(message.ConsumerId, message.ProjectId, message.Resources)
        {
            AvailabilityZone = string.IsNullOrWhiteSpace(message.AvailabilityZone) ? null : message.AvailabilityZone.Trim(),
            ServerGroupId = group?.GroupId,
            ServerGroupPolicy = group?.Policy,
            GroupMembersByHost = (group?.MemberHosts ?? []).Where(h => !string.IsNullOrEmpty(h))
                .GroupBy(h => h, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            ImageProperties = message.ImageProperties?.ToFrozenDictionary(StringComparer.Ordinal) ?? NoProperties,
            FlavorExtraSpecs = message.FlavorExtraSpecs?.ToFrozenDictionary(StringComparer.Ordinal) ?? NoProperties,
            AvoidHosts = (message.AvoidHosts ?? []).ToFrozenSet(StringComparer.Ordinal),
            Resize = message.Resize,
        };
    }

    public static void Validate(PlacementResources resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        if (resources.VCpus < 0 || resources.MemoryMb < 0 || resources.DiskGb < 0)
            throw new ArgumentException($"resources cannot be negative: {resources}", nameof(resources));
    }
}
