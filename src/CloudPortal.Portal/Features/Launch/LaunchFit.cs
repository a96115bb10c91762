using CloudPortal.Compute.Flavors;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.Identity.Quotas;

namespace CloudPortal.Portal.Features.Launch;

/// <summary>One row of the wizard's flavor table: whether <c>count</c> instances of it fit, and if not, why.</summary>
public sealed record FlavorFitRow(FlavorView Flavor, string? QuotaProblem, string? CapacityProblem, int? HostsRoom)
{
    public bool Fits => QuotaProblem is null && CapacityProblem is null;
}

/// <summary>
/// What the wizard says before the click. The quota side reads Identity's view (limit, in use, being built);
/// the capacity side is the Scheduler's fit check on free capacity now. Compute checks both again at launch.
/// </summary>
public static class LaunchFit
{
    public static string? QuotaProblem(ProjectQuota? quota, FlavorView flavor, int count)
    {
        if (quota is null)
            return null;
        return Shortfall("instances", count, "instance", "instances")
            ?? Shortfall("cores", (long)flavor.VCpus * count, "vCPU", "vCPUs")
            ?? Shortfall("ram_mb", (long)flavor.RamMb * count, "MB of RAM", "MB of RAM");

        string? Shortfall(string resource, long needed, string one, string many)
        {
            var left = QuotaHeadroom.Left(quota, resource);
            return left is null || needed <= left ? null : $"needs {needed} {(needed == 1 ? one : many)}, {left} left in your quota";
        }
    }

    public static string? CapacityProblem(FlavorFit? fit, int count) => fit switch
    {
        null => null,
        { Count: 0 } => fit.Reason ?? "no host has room for it now",
        _ when fit.Count < count => $"only {fit.Count} fit on the hosts now",
        _ => null,
    };
}
