using CloudPortal.BlockStorage;
using CloudPortal.Compute;
using CloudPortal.Ec2Api;
using CloudPortal.Identity;
using CloudPortal.Images;
using CloudPortal.Network;
using CloudPortal.Portal;
using CloudPortal.Scheduler;
using CloudPortal.ServiceDefaults;
using CloudPortal.ServiceDefaults.Modules;

namespace CloudPortal.Host;

/// <summary>Every module <c>cloudportal serve</c> can host, in the order they are added.</summary>
internal static class Modules
{
    public static readonly IReadOnlyList<CloudModule> All =
    [
        new(IdentityModule.Name, "users, projects, roles, OpenID Connect, EC2 keys, quota limits", b => b.AddIdentityModule(), a => a.MapIdentityModule()),
        new(ComputeModule.Name, "instances, flavors, key pairs, server groups", b => b.AddComputeModule(), a => a.MapComputeModule()),
        new(SchedulerModule.Name, "compute nodes, capacity, placement", b => b.AddSchedulerModule(), a => a.MapSchedulerModule()),
        new(ImagesModule.Name, "the image catalog", b => b.AddImagesModule(), a => a.MapImagesModule()),
        new(BlockStorageModule.Name, "volumes and snapshots", b => b.AddBlockStorageModule(), a => a.MapBlockStorageModule()),
        new(NetworkModule.Name, "networks, ports, security groups, floating IPs", b => b.AddNetworkModule(), a => a.MapNetworkModule()),
        new(PortalModule.Name, "the web portal", b => b.AddPortalModule(), a => a.MapPortalModule()),
        new(Ec2ApiModule.Name, "the EC2-compatible Query API", b => b.AddEc2ApiModule(), a => a.MapEc2ApiModule()),
    ];

    public static IReadOnlyList<CloudModule> Named(IEnumerable<string> names)
    {
        var selected = new List<CloudModule>();
        foreach (var name in names)
        {
            var module = All.FirstOrDefault(m => m.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new StartupException($"unknown module '{name}'; known modules: {string.Join(", ", All.Select(m => m.Name))}");
            if (!selected.Contains(module))
                selected.Add(module);
        }
        if (selected.Count == 0)
            throw new StartupException($"name at least one module to serve: {string.Join(", ", All.Select(m => m.Name))}");
        // Catalog order: Identity first, so the modules after it validate tokens in-process.
        return All.Where(selected.Contains).ToList();
    }
}
