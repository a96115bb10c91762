using System.Collections.Concurrent;
using CloudPortal.ComputeAgent.Libvirt;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>
/// Which libvirt domains are this agent's instances: named <c>cp-{uuid}</c> and carrying CloudPortal metadata with this
/// node's host name. Several agents may share one libvirtd (an all-in-one beside a test agent, parallel tests); each
/// reports and manages only its own. The answer per domain is cached, so that an event about a domain that is already
/// gone (undefined with virsh) can still be attributed.
/// </summary>
public sealed class OwnedDomains(AgentSettings settings)
{
    private readonly ConcurrentDictionary<Guid, InstanceMetadata?> _known = new();

    /// <summary>Called before a domain is defined, so its first events are already recognised.</summary>
    public void Remember(InstanceMetadata metadata) => _known[metadata.InstanceId] = metadata;

    /// <summary>The metadata when the domain is ours, else null (reads libvirt once per unknown domain).</summary>
    public InstanceMetadata? Lookup(LibvirtConnection connection, Guid uuid, string name)
    {
        if (DomainXml.InstanceIdOf(name) != uuid)
            return null;
        if (_known.TryGetValue(uuid, out var known))
            return known;
        using var domain = connection.LookupDomainByUuid(uuid);
        if (domain is null)
            return null;
        return _known[uuid] = Read(domain);
    }

    /// <summary>The metadata when <paramref name="domain"/> is ours, else null; refreshes the cache.</summary>
    public InstanceMetadata? Read(LibvirtDomain domain)
    {
        var uuid = domain.Uuid;
        if (DomainXml.InstanceIdOf(domain.Name) != uuid)
            return null;
        var metadata = DomainXml.ReadMetadata(domain.GetXmlDesc());
        metadata = metadata is not null && metadata.Host == settings.Host ? metadata : null;
        _known[uuid] = metadata;
        return metadata;
    }

    /// <summary>Every instance of this agent that libvirt has, with its domain (the caller disposes the domains).</summary>
    public IReadOnlyList<(LibvirtDomain Domain, InstanceMetadata Metadata)> List(LibvirtConnection connection)
    {
        var owned = new List<(LibvirtDomain, InstanceMetadata)>();
        foreach (var domain in connection.ListAllDomains())
        {
            InstanceMetadata? metadata = null;
            try
            {
                metadata = Read(domain);
            }
            catch (LibvirtException ex) when (ex.ErrorCode == LibvirtErrorCode.NoDomain)
            {
                // Undefined between the listing and the read.
            }
            if (metadata is null)
                domain.Dispose();
            else
                owned.Add((domain, metadata));
        }
        return owned;
    }
}
