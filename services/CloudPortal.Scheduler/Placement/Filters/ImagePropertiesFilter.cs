namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>
/// Only hosts that can run the image: its architecture (<c>hw_architecture</c>), hypervisor type
/// (<c>img_hv_type</c>) and VM mode (<c>hw_vm_mode</c>). Images without these properties run anywhere.
/// </summary>
public sealed class ImagePropertiesFilter : IHostFilter
{
    public const string ArchitectureProperty = "hw_architecture";
    public const string HypervisorTypeProperty = "img_hv_type";
    public const string VmModeProperty = "hw_vm_mode";

    public string Name => "ImagePropertiesFilter";

    public FilterResult Passes(HostState host, PlacementRequest request)
    {
        if (Wanted(request, ArchitectureProperty, "architecture") is { } arch)
        {
            var wanted = HostCapabilities.NormaliseArchitecture(arch);
            if (!string.Equals(host.Architecture, wanted, StringComparison.Ordinal))
                return FilterResult.Fail("architecture", $"architecture {host.Architecture ?? "unknown"}, image needs {wanted}");
        }
        if (Wanted(request, HypervisorTypeProperty, "hypervisor_type") is { } hv)
        {
            var wanted = hv.ToLowerInvariant();
            if (!RunsHypervisor(host.HypervisorType, wanted))
                return FilterResult.Fail("hypervisor", $"hypervisor {host.HypervisorType}, image needs {wanted}");
        }
        if (Wanted(request, VmModeProperty, "vm_mode") is { } mode)
        {
            var wanted = mode.ToLowerInvariant();
            if (!(wanted == "hvm" && host.HypervisorType is "qemu" or "kvm" or "test"))
                return FilterResult.Fail("vm_mode", $"hypervisor {host.HypervisorType} has no VM mode {wanted}");
        }
        return FilterResult.Pass;
    }

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected)
    {
        var (code, _) = rejected.GroupBy(r => r.Result.Code).Select(g => (g.Key, g.Count())).MaxBy(g => g.Item2);
        var (property, offered) = code switch
        {
            "architecture" => ($"architecture {HostCapabilities.NormaliseArchitecture(Wanted(request, ArchitectureProperty, "architecture"))}", rejected.Select(r => r.Host.Architecture ?? "unknown")),
            "hypervisor" => ($"hypervisor type {Wanted(request, HypervisorTypeProperty, "hypervisor_type")!.ToLowerInvariant()}", rejected.Select(r => r.Host.HypervisorType)),
            _ => ($"VM mode {Wanted(request, VmModeProperty, "vm_mode")!.ToLowerInvariant()}", rejected.Select(r => r.Host.HypervisorType)),
        };
        var hosts = offered.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return $"no host{request.Where} can run this image: it needs {property} (hosts offer {Sentences.List(hosts, "and")}); use an image built for these hosts";
    }

    // libvirt's QEMU driver runs both plain QEMU (TCG) and KVM guests; it does not report KVM separately.
    private static bool RunsHypervisor(string host, string wanted) =>
        host == wanted || (host == "qemu" && wanted == "kvm");

    private static string? Wanted(PlacementRequest request, string key, string legacyKey) =>
        request.ImageProperties.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim()
        : request.ImageProperties.TryGetValue(legacyKey, out var legacy) && !string.IsNullOrWhiteSpace(legacy) ? legacy.Trim()
        : null;
}
