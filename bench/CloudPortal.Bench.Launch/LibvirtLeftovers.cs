using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;

namespace CloudPortal.Bench.Launch;

/// <summary>
/// What this run may have made in libvirt, named before it is made: the host names its domains carry in their CloudPortal
/// metadata (the agents' nodes and the raw path's pseudo-host), and the storage pools. <see cref="Remove"/> takes away
/// exactly those — never another engineer's domains on the same libvirtd — on the bench's own connection, so it also
/// works for a <c>--libvirt</c> URI other than the system one the test fixtures clean.
/// </summary>
internal sealed class LibvirtLeftovers
{
    public HashSet<string> Hosts { get; } = [];

    public List<string> Pools { get; } = [];

    /// <summary>The pools an agent of <paramref name="node"/> defines by default.</summary>
    public void AddNode(string node)
    {
        Hosts.Add(node);
        Pools.Add($"cloudportal-instances-{node}");
        Pools.Add($"cloudportal-images-{node}");
    }

    /// <summary>Best effort, every item on its own: one that cannot be removed is named on stderr and the rest still go.</summary>
    public void Remove(LibvirtConnection libvirt, bool simulated)
    {
        foreach (var domain in libvirt.ListAllDomains())
        {
            using (domain)
            {
                Try($"domain {domain}", () =>
                {
                    if (DomainXml.InstanceIdOf(domain.Name) is null || DomainXml.ReadMetadata(domain.GetXmlDesc()) is not { } metadata || !Hosts.Contains(metadata.Host))
                        return;
                    if (domain.IsActive())
                        domain.Destroy();
                    domain.Undefine(simulated ? DomainUndefineFlags.ManagedSave : DomainUndefineFlags.ManagedSave | DomainUndefineFlags.Nvram);
                });
            }
        }
        foreach (var name in Pools)
        {
            Try($"storage pool {name}", () =>
            {
                using var pool = libvirt.LookupStoragePoolByName(name);
                if (pool is null)
                    return;
                if (pool.IsActive())
                {
                    // The directory may already be gone (a test cloud removes its data directory): then only the pool is left.
                    Try($"volumes of {name}", () =>
                    {
                        pool.Refresh();
                        foreach (var volume in pool.ListAllVolumes())
                        {
                            using (volume)
                                volume.Delete();
                        }
                    });
                    pool.Destroy();
                }
                pool.Undefine();
            });
        }
    }

    private static void Try(string what, Action remove)
    {
        try
        {
            remove();
        }
        catch (LibvirtException ex)
        {
            Console.Error.WriteLine($"cleanup: could not remove {what}: {ex.Message}");
        }
    }
}
