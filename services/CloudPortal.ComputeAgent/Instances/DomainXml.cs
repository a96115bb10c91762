using System.Globalization;
using System.Xml.Linq;
using CloudPortal.Contracts.Compute;

namespace CloudPortal.ComputeAgent.Instances;

/// <summary>What CloudPortal keeps in a domain's <c>&lt;metadata&gt;</c>: enough to report and reap instances from libvirt alone.</summary>
/// <param name="Host">The agent (node name) that created the domain; an agent manages only its own.</param>
public sealed record InstanceMetadata(Guid InstanceId, Guid ProjectId, string Host, FlavorSpec Flavor, Guid ImageId, string ImageSha256, DateTimeOffset CreatedAt);

/// <summary>Everything a CloudPortal domain is made of.</summary>
/// <param name="DomainType"><c>kvm</c>, <c>qemu</c> or <c>test</c>.</param>
/// <param name="DiskPath">The instance's qcow2 overlay.</param>
/// <param name="VncAddress">The management address the VNC server listens on (the port is libvirt's to allocate).</param>
public sealed record DomainDefinition(string DomainType, InstanceMetadata Metadata, string DiskPath, string ConsoleLogPath, string VncAddress, string? UserData);

/// <summary>CloudPortal's libvirt domain XML: <c>cp-{instance id}</c>, UUID = instance id, metadata in our namespace.</summary>
public static class DomainXml
{
    public const string NamePrefix = "cp-";
    public static readonly XNamespace Namespace = "urn:cloudportal:instance:1";

    public static string DomainName(Guid instanceId) => NamePrefix + instanceId.ToString("D");

    /// <summary>The instance id in a CloudPortal domain name, or null for any other domain.</summary>
    public static Guid? InstanceIdOf(string domainName) =>
        domainName.StartsWith(NamePrefix, StringComparison.Ordinal) && Guid.TryParseExact(domainName[NamePrefix.Length..], "D", out var id) ? id : null;

    public static string Build(DomainDefinition definition)
    {
        var m = definition.Metadata;
        var cp = Namespace;
        var metadata = new XElement(cp + "instance",
            new XAttribute(XNamespace.Xmlns + "cloudportal", cp.NamespaceName),
            new XElement(cp + "host", m.Host),
            new XElement(cp + "project", m.ProjectId.ToString("D")),
            new XElement(cp + "flavor",
                new XAttribute("name", m.Flavor.Name),
                new XAttribute("vcpus", m.Flavor.VCpus),
                new XAttribute("ram-mb", m.Flavor.RamMb),
                new XAttribute("root-gb", m.Flavor.RootGb)),
            new XElement(cp + "image", new XAttribute("id", m.ImageId.ToString("D")), new XAttribute("sha256", m.ImageSha256)),
            new XElement(cp + "created", m.CreatedAt.ToString("O", CultureInfo.InvariantCulture)),
            definition.UserData is null ? null : new XElement(cp + "user-data", definition.UserData));

        var domain = new XElement("domain", new XAttribute("type", definition.DomainType),
            new XElement("name", DomainName(m.InstanceId)),
            new XElement("uuid", m.InstanceId.ToString("D")),
            new XElement("title", $"CloudPortal instance {m.InstanceId:D}"),
            new XElement("metadata", metadata),
            new XElement("memory", new XAttribute("unit", "MiB"), m.Flavor.RamMb),
            new XElement("vcpu", m.Flavor.VCpus),
            new XElement("os", new XElement("type", new XAttribute("arch", "x86_64"), "hvm"), new XElement("boot", new XAttribute("dev", "hd"))),
            // ACPI: without it the guest never sees the power button, and every stop becomes a destroy.
            new XElement("features", new XElement("acpi"), new XElement("apic")),
            new XElement("clock", new XAttribute("offset", "utc")),
            new XElement("on_poweroff", "destroy"),
            new XElement("on_reboot", "restart"),
            new XElement("on_crash", "destroy"),
            new XElement("devices",
                new XElement("disk", new XAttribute("type", "file"), new XAttribute("device", "disk"),
                    new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "qcow2")),
                    new XElement("source", new XAttribute("file", definition.DiskPath)),
                    new XElement("target", new XAttribute("dev", "vda"), new XAttribute("bus", "virtio"))),
                // append: the log keeps every boot, like a physical serial console would.
                new XElement("serial", new XAttribute("type", "file"),
                    new XElement("source", new XAttribute("path", definition.ConsoleLogPath), new XAttribute("append", "on")),
                    new XElement("target", new XAttribute("port", 0))),
                new XElement("graphics", new XAttribute("type", "vnc"), new XAttribute("autoport", "yes"), new XAttribute("listen", definition.VncAddress),
                    new XElement("listen", new XAttribute("type", "address"), new XAttribute("address", definition.VncAddress)))));
        return domain.ToString();
    }

    /// <summary>The CloudPortal metadata of a domain's XML, or null when it has none (not ours, or damaged).</summary>
    public static InstanceMetadata? ReadMetadata(string domainXml)
    {
        var root = XDocument.Parse(domainXml).Root;
        var instance = root?.Element("metadata")?.Element(Namespace + "instance");
        if (root is null || instance is null || !Guid.TryParse((string?)root.Element("uuid"), out var id))
            return null;
        var flavor = instance.Element(Namespace + "flavor");
        var image = instance.Element(Namespace + "image");
        if (!Guid.TryParse((string?)instance.Element(Namespace + "project"), out var project) || flavor is null || image is null)
            return null;
        return new InstanceMetadata(
            id, project, (string?)instance.Element(Namespace + "host") ?? "",
            new FlavorSpec((string?)flavor.Attribute("name") ?? "", (int?)flavor.Attribute("vcpus") ?? 0, (int?)flavor.Attribute("ram-mb") ?? 0, (int?)flavor.Attribute("root-gb") ?? 0),
            Guid.TryParse((string?)image.Attribute("id"), out var imageId) ? imageId : Guid.Empty,
            (string?)image.Attribute("sha256") ?? "",
            DateTimeOffset.TryParse((string?)instance.Element(Namespace + "created"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var created) ? created : default);
    }

    /// <summary>The file the first serial port writes to.</summary>
    public static string? ConsoleLogPath(string domainXml) =>
        (string?)XDocument.Parse(domainXml).Root?.Element("devices")?.Elements("serial")
            .FirstOrDefault(s => (string?)s.Attribute("type") == "file")?.Element("source")?.Attribute("path");

    /// <summary>The VNC server of a running domain's live XML: listen address and port, or null when it has none (yet).</summary>
    public static (string Address, int Port)? Vnc(string domainXml)
    {
        var graphics = XDocument.Parse(domainXml).Root?.Element("devices")?.Elements("graphics").FirstOrDefault(g => (string?)g.Attribute("type") == "vnc");
        if (graphics is null || (int?)graphics.Attribute("port") is not ({ } port and > 0))
            return null;
        var address = (string?)graphics.Element("listen")?.Attribute("address") ?? (string?)graphics.Attribute("listen") ?? "127.0.0.1";
        return (address, port);
    }
}
