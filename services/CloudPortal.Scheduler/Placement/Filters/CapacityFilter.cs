using CloudPortal.Scheduler.Hosts;

namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>
/// Only hosts with room: for vCPUs, RAM and disk, allocated + requested ≤ (total − reserved) × allocation ratio.
/// The claim checks the same rule again against the database, so a stale snapshot cannot over-commit.
/// </summary>
public sealed class CapacityFilter : IHostFilter
{
    public string Name => "CapacityFilter";

    public FilterResult Passes(HostState host, PlacementRequest request)
    {
        List<string>? codes = null, reasons = null;
        foreach (var resource in Resources)
        {
            var wanted = Wanted(request, resource);
            var inventory = host[resource];
            if (inventory.Fits(wanted))
                continue;
            (codes ??= []).Add(Code(resource));
            (reasons ??= []).Add($"{Amount(resource, wanted)} requested, {Amount(resource, inventory.Free)} free of {Amount(resource, inventory.Capacity)}");
        }
        return codes is null ? FilterResult.Pass : FilterResult.Fail(string.Join(",", codes), string.Join("; ", reasons!));
    }

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected)
    {
        var shortOf = Resources.Where(r => rejected.Any(h => !h.Host[r].Fits(Wanted(request, r)))).ToList();
        if (shortOf.Count == 1)
        {
            // One resource is the limit everywhere: the most of it any host has free is what the tenant can ask for.
            var resource = shortOf[0];
            return $"no host{request.Where} has {Amount(resource, Wanted(request, resource))} free: largest free is {Bare(resource, rejected.Max(h => h.Host[resource].Free))}";
        }
        // Hosts fall short on different resources: show the one closest to fitting (fewest resources short, then the
        // smallest shortfall), so the tenant sees which part of the flavor to shrink.
        var requested = Resources.Where(r => Wanted(request, r) > 0).ToList();
        var closest = rejected.Select(r => r.Host)
            .OrderBy(h => requested.Count(r => !h[r].Fits(Wanted(request, r))))
            .ThenByDescending(h => requested.Min(r => (double)h[r].Free / Wanted(request, r)))
            .ThenBy(h => h.Host, StringComparer.Ordinal)
            .First();
        return $"no host{request.Where} has {Sentences.List(requested.Select(r => Amount(r, Wanted(request, r))).ToList(), "and")} free at once: " +
            $"the closest has {Sentences.List(requested.Select(r => Amount(r, closest[r].Free)).ToList(), "and")} free";
    }

    public static readonly ResourceClass[] Resources = [ResourceClass.VCpu, ResourceClass.MemoryMb, ResourceClass.DiskGb];

    public static long Wanted(PlacementRequest request, ResourceClass resource) => resource switch
    {
        ResourceClass.VCpu => request.Resources.VCpus,
        ResourceClass.MemoryMb => request.Resources.MemoryMb,
        _ => request.Resources.DiskGb,
    };

    private static string Code(ResourceClass resource) => resource switch
    {
        ResourceClass.VCpu => "vcpu",
        ResourceClass.MemoryMb => "ram",
        _ => "disk",
    };

    private static string Bare(ResourceClass resource, long amount) => resource switch
    {
        ResourceClass.MemoryMb => $"{amount} MB",
        ResourceClass.DiskGb => $"{amount} GB",
        _ => Amount(resource, amount),
    };

    public static string Amount(ResourceClass resource, long amount) => resource switch
    {
        ResourceClass.VCpu => amount == 1 ? "1 vCPU" : $"{amount} vCPUs",
        ResourceClass.MemoryMb => $"{amount} MB RAM",
        _ => $"{amount} GB disk",
    };
}
