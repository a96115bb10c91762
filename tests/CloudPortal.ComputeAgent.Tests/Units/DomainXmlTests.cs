using System.Xml.Linq;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.Contracts.Compute;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Units;

public sealed class DomainXmlTests
{
    private static readonly InstanceMetadata Metadata = new(
        Guid.Parse("6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11"), Guid.NewGuid(), "node-1", new FlavorSpec("m1.<tiny>&", 2, 512, 10),
        Guid.NewGuid(), new string('a', 64), new DateTimeOffset(2026, 11, 26, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Names_the_domain_after_the_instance_and_keeps_the_metadata_readable()
    {
        var xml = DomainXml.Build(new DomainDefinition("kvm", Metadata, "/var/lib/cp/instances/x.qcow2", "/var/lib/cp/consoles/x.log", "10.0.0.5", "#cloud-config\n"));
        var root = XDocument.Parse(xml).Root!;

        Assert.Equal("kvm", (string?)root.Attribute("type"));
        Assert.Equal("cp-6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11", (string?)root.Element("name"));
        Assert.Equal(Metadata.InstanceId, Guid.Parse((string)root.Element("uuid")!));
        Assert.Equal(2, (int)root.Element("vcpu")!);
        Assert.Equal(512, (int)root.Element("memory")!);
        Assert.Equal(Metadata, DomainXml.ReadMetadata(xml));
        Assert.Equal("/var/lib/cp/consoles/x.log", DomainXml.ConsoleLogPath(xml));
        Assert.Equal("/var/lib/cp/instances/x.qcow2", (string?)root.Element("devices")!.Element("disk")!.Element("source")!.Attribute("file"));
        Assert.Equal("#cloud-config\n", (string?)root.Element("metadata")!.Element(DomainXml.Namespace + "instance")!.Element(DomainXml.Namespace + "user-data"));
        // No port until libvirt allocates one at start.
        Assert.Null(DomainXml.Vnc(xml));
    }

    [Fact]
    public void Reads_the_vnc_port_libvirt_allocated_from_the_live_xml()
    {
        const string live = """
            <domain type='kvm'><name>cp-x</name><devices>
              <graphics type='vnc' port='5903' autoport='yes' listen='10.0.0.5'><listen type='address' address='10.0.0.5'/></graphics>
            </devices></domain>
            """;

        Assert.Equal(("10.0.0.5", 5903), DomainXml.Vnc(live));
    }

    [Theory]
    [InlineData("cp-6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11", true)]
    [InlineData("cp-6F1C6A52-51C4-4D8B-9D0C-3B6B3F0F4A11", true)]
    [InlineData("cp-test-dom-1234", false)]
    [InlineData("vm-6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11", false)]
    [InlineData("cp-6f1c6a5251c44d8b9d0c3b6b3f0f4a11", false)]
    public void Recognises_only_cloudportal_domain_names(string name, bool ours) =>
        Assert.Equal(ours, DomainXml.InstanceIdOf(name) is not null);

    [Fact]
    public void A_domain_without_our_metadata_has_none()
    {
        Assert.Null(DomainXml.ReadMetadata("<domain type='kvm'><name>web</name><uuid>6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11</uuid></domain>"));
        Assert.Null(DomainXml.ReadMetadata("<domain type='kvm'><name>web</name><uuid>6f1c6a52-51c4-4d8b-9d0c-3b6b3f0f4a11</uuid><metadata><x:y xmlns:x='urn:other'/></metadata></domain>"));
    }
}
