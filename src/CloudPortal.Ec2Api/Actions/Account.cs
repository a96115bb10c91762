using CloudPortal.Compute.Flavors;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.Ec2Api.Protocol;
using CloudPortal.Identity.Quotas;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>DescribeRegions, DescribeAvailabilityZones, DescribeAccountAttributes, DescribeInstanceTypes.</summary>
public static class Account
{
    public static IEnumerable<Ec2Action> All =>
    [
        new("DescribeRegions", false, RegionsAsync),
        new("DescribeAvailabilityZones", false, ZonesAsync),
        new("DescribeAccountAttributes", false, AttributesAsync),
        new("DescribeInstanceTypes", false, InstanceTypesAsync),
    ];

    private static Task<IEnumerable<object?>> RegionsAsync(Ec2Context context)
    {
        var region = context.Options.Region;
        var asked = context.Parameters.List("RegionName");
        IEnumerable<object?> content = asked.Count > 0 && !asked.Contains(region)
            ? throw Ec2Exception.Invalid($"Invalid region: '{Ec2Parameters.Clip(asked.First(a => a != region))}'; this cloud is region '{region}'.")
            : [Set("regionInfo", [[X("regionName", region), X("regionEndpoint", context.Endpoint), X("optInStatus", "opt-in-not-required")]])];
        return Task.FromResult(content);
    }

    private static async Task<IEnumerable<object?>> ZonesAsync(Ec2Context context)
    {
        var client = context.Services.GetRequiredService<IRequestClient<ListAvailabilityZones>>();
        IReadOnlyList<AvailabilityZoneState> zones;
        try
        {
            zones = (await client.GetResponse<AvailabilityZoneList>(new ListAvailabilityZones(), context.CancellationToken)).Message.Zones;
        }
        catch (RequestTimeoutException)
        {
            throw new Ec2Exception("Unavailable", "The Scheduler did not answer in time; try again in a moment.");
        }
        var asked = context.Parameters.List("ZoneName");
        if (asked.FirstOrDefault(a => zones.All(z => z.Name != a)) is { } unknown)
            throw Ec2Exception.Invalid($"The zone '{Ec2Parameters.Clip(unknown)}' does not exist in this region");
        var region = context.Options.Region;
        return
        [
            Set("availabilityZoneInfo", zones.Where(z => asked.Count == 0 || asked.Contains(z.Name)).Select(z => new object?[]
            {
                X("zoneName", z.Name),
                X("zoneId", $"{region}-{z.Name}"),
                X("zoneState", z.Available ? "available" : "unavailable"),
                X("regionName", region),
                X("zoneType", "availability-zone"),
                X("optInStatus", "opt-in-not-required"),
                X("groupName", region),
                X("networkBorderGroup", region),
                X("messageSet"),
            })),
        ];
    }

    private static async Task<IEnumerable<object?>> AttributesAsync(Ec2Context context)
    {
        var quota = await context.Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{context.Caller.ProjectId}/quota", context.CancellationToken);
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["supported-platforms"] = "VPC",
            ["default-vpc"] = "none",
            ["max-instances"] = (quota.Resources.FirstOrDefault(r => r.Resource == "instances")?.Limit ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["vpc-max-security-groups-per-interface"] = "0",
            ["max-elastic-ips"] = "0",
            ["vpc-max-elastic-ips"] = "0",
        };
        var asked = context.Parameters.List("AttributeName");
        if (asked.FirstOrDefault(a => !attributes.ContainsKey(a)) is { } unknown)
            throw Ec2Exception.Invalid($"Value ({Ec2Parameters.Clip(unknown)}) for parameter attributeName is invalid.");
        return
        [
            Set("accountAttributeSet", attributes.Where(a => asked.Count == 0 || asked.Contains(a.Key)).Select(a => new object?[]
            {
                X("attributeName", a.Key),
                Set("attributeValueSet", [[X("attributeValue", a.Value)]]),
            })),
        ];
    }

    private static async Task<IEnumerable<object?>> InstanceTypesAsync(Ec2Context context)
    {
        var flavors = await context.Api.AllAsync<FlavorPage, FlavorView>("compute", "compute/v1/flavors?limit=1000", p => (p.Flavors, p.Next), context.CancellationToken);
        var asked = context.Parameters.List("InstanceType");
        if (asked.FirstOrDefault(a => flavors.All(f => f.Name != a)) is { } unknown)
            throw new Ec2Exception("InvalidInstanceType", $"The following supplied instance types do not exist: [{Ec2Parameters.Clip(unknown)}]");
        var chosen = flavors.Where(f => asked.Count == 0 || asked.Contains(f.Name)).ToList();
        var (page, next) = Ec2Paging.Page(chosen, f => f.Name, context.Parameters, 5, 100);
        return
        [
            Set("instanceTypeSet", page.Select(f => new object?[]
            {
                X("instanceType", f.Name),
                X("currentGeneration", true),
                X("freeTierEligible", false),
                X("supportedUsageClasses", X("item", "on-demand")),
                X("supportedRootDeviceTypes", X("item", "instance-store")),
                X("supportedVirtualizationTypes", X("item", "hvm")),
                X("bareMetal", false),
                X("hypervisor", "xen"),
                X("processorInfo", X("supportedArchitectures", X("item", "x86_64"))),
                X("vCpuInfo", X("defaultVCpus", f.VCpus), X("defaultCores", f.VCpus), X("defaultThreadsPerCore", 1)),
                X("memoryInfo", X("sizeInMiB", f.RamMb)),
                X("instanceStorageSupported", f.DiskGb + f.EphemeralGb > 0),
                X("instanceStorageInfo", X("totalSizeInGB", f.DiskGb + f.EphemeralGb)),
                X("autoRecoverySupported", false),
                X("burstablePerformanceSupported", false),
            })),
            Opt("nextToken", next),
        ];
    }
}
