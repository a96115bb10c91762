using System.Globalization;
using CloudPortal.Compute.Instances;
using CloudPortal.Ec2Api.Protocol;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>The instances the caller's project can see through EC2: Compute's, plus the ones terminated within the hour.</summary>
public static class Instances
{
    public const string DefaultZone = "nova";

    private static readonly HashSet<string> KnownFilters =
    [
        "instance-id", "instance-state-name", "instance-state-code", "instance-type", "image-id", "key-name", "availability-zone",
        "reservation-id", "launch-index", "owner-id",
    ];

    public static async Task<List<InstanceView>> VisibleAsync(Ec2Context context)
    {
        var since = (context.Now - context.Options.TerminatedVisibleFor).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return await context.Api.AllAsync<InstancePage, InstanceView>("compute", $"compute/v1/instances?limit=1000&deletedSince={since}",
            p => (p.Instances, p.Next), context.CancellationToken);
    }

    /// <summary>Every id must be well formed and visible, or the whole call fails naming the missing ones (as AWS).</summary>
    public static async Task<List<InstanceView>> ResolveAsync(Ec2Context context, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
            if (!Ec2Ids.IsWellFormed(Ec2Ids.Instance, id))
                throw Ec2Errors.Malformed("InvalidInstanceID.Malformed", id);
        var visible = ids.Count == 0 ? [] : await VisibleAsync(context);
        var byId = visible.ToDictionary(i => Ec2Ids.Of(Ec2Ids.Instance, i.Id), StringComparer.Ordinal);
        var missing = ids.Where(id => !byId.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
            throw Ec2Errors.InstancesNotFound(missing);
        return ids.Distinct().Select(id => byId[id]).ToList();
    }

    public static IReadOnlyList<string> RequiredIds(Ec2Context context)
    {
        var ids = context.Parameters.List("InstanceId");
        return ids.Count > 0 ? ids : throw Ec2Exception.Missing("InstanceId");
    }

    public static IReadOnlyList<InstanceView> Filter(Ec2Context context, IEnumerable<InstanceView> instances) =>
        Ec2Filters.Apply(instances, context.Parameters.Filters(), KnownFilters, (i, name) => name switch
        {
            "instance-id" => [Ec2Ids.Of(Ec2Ids.Instance, i.Id)],
            "instance-state-name" => [InstanceState.Of(i).Name],
            "instance-state-code" => [InstanceState.Of(i).Code.ToString(CultureInfo.InvariantCulture)],
            "instance-type" => [i.Flavor.Name],
            "image-id" => [Ec2Ids.Of(Ec2Ids.Image, i.Image.Id)],
            "key-name" => [i.KeyName],
            "availability-zone" => [i.AvailabilityZone ?? DefaultZone],
            "reservation-id" => [Ec2Ids.Of(Ec2Ids.Reservation, i.ReservationId)],
            "launch-index" => [i.LaunchIndex.ToString(CultureInfo.InvariantCulture)],
            "owner-id" => [context.Caller.Account],
            _ => [],
        }, i => i.Tags);

    /// <summary>Stable order for paging: launch order, then id.</summary>
    public static string SortKey(InstanceView i) => $"{i.CreatedAt.Ticks:D19}/{i.Id}";

    public static System.Xml.Linq.XElement StateElement(string name, InstanceState state) => X(name, X("code", state.Code), X("name", state.Name));

    /// <summary>An instance as DescribeInstances and RunInstances show it.</summary>
    public static IEnumerable<object?> Item(InstanceView i)
    {
        var state = InstanceState.Of(i);
        var reason = InstanceState.Reason(i);
        return
        [
            X("instanceId", Ec2Ids.Of(Ec2Ids.Instance, i.Id)),
            X("imageId", Ec2Ids.Of(Ec2Ids.Image, i.Image.Id)),
            X("instanceState", X("code", state.Code), X("name", state.Name)),
            X("privateDnsName", ""),
            X("dnsName", ""),
            X("reason", reason?.Message ?? ""),
            Opt("keyName", i.KeyName),
            X("amiLaunchIndex", i.LaunchIndex),
            X("productCodes"),
            X("instanceType", i.Flavor.Name),
            X("launchTime", i.LaunchedAt ?? i.CreatedAt),
            X("placement", X("availabilityZone", i.AvailabilityZone ?? DefaultZone), X("groupName", ""), X("tenancy", "default")),
            X("monitoring", X("state", "disabled")),
            X("groupSet"),
            reason is { } r ? X("stateReason", X("code", r.Code), X("message", r.Message)) : null,
            X("architecture", "x86_64"),
            X("rootDeviceType", "instance-store"),
            X("rootDeviceName", "/dev/vda"),
            X("blockDeviceMapping"),
            X("virtualizationType", "hvm"),
            // EC2's model knows xen and ovm only; AWS's own KVM-based (Nitro) instances answer xen too.
            X("hypervisor", "xen"),
            TagSet(i.Tags),
            X("ebsOptimized", false),
            X("platformDetails", "Linux/UNIX"),
            X("metadataOptions", X("state", "applied"), X("httpTokens", "optional"), X("httpEndpoint", "disabled")),
        ];
    }

    /// <summary>Instances grouped by reservation, in the order given.</summary>
    public static System.Xml.Linq.XElement ReservationSet(Ec2Context context, IEnumerable<InstanceView> instances) =>
        Set("reservationSet", instances.GroupBy(i => i.ReservationId).Select(r => new object?[]
        {
            X("reservationId", Ec2Ids.Of(Ec2Ids.Reservation, r.Key)),
            X("ownerId", context.Caller.Account),
            X("groupSet"),
            Set("instancesSet", r.OrderBy(i => i.LaunchIndex).Select(Item)),
        }));
}
