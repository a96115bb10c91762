using System.Diagnostics;
using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Testing;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Opens the libvirt drivers the tests use: a failure naming what to install under CI, a skip elsewhere.</summary>
internal static class LibvirtTestHost
{
    public const string TestDriver = "test:///default";
    public const string QemuSystem = "qemu:///system";

    /// <summary>libvirt's simulated hypervisor, inside the client library. All test:///default connections of a process share one state.</summary>
    public static LibvirtConnection OpenTestDriver(bool readOnly = false) =>
        Open(TestDriver, readOnly, "libvirt's test driver", "the libvirt0 package");

    public static LibvirtConnection OpenQemu() =>
        Open(QemuSystem, readOnly: false, "libvirtd at qemu:///system",
            "libvirt-daemon-system, qemu-system-x86 and qemu-utils, put user = \"root\" and group = \"root\" in /etc/libvirt/qemu.conf, then start `virtlogd -d; libvirtd -d` as root");

    /// <summary><c>kvm</c> when libvirt can use /dev/kvm for x86_64 guests, otherwise <c>qemu</c> (TCG).</summary>
    public static string DomainType(LibvirtConnection connection)
    {
        var capabilities = XDocument.Parse(connection.GetCapabilities());
        var kvm = capabilities.Root!.Elements("guest")
            .Where(g => (string?)g.Element("os_type") == "hvm")
            .Elements("arch").Where(a => (string?)a.Attribute("name") == "x86_64")
            .Elements("domain").Any(d => (string?)d.Attribute("type") == "kvm");
        return kvm ? "kvm" : "qemu";
    }

    /// <summary>A minimal domain the test driver accepts.</summary>
    public static string TestDomainXml(string name, Guid uuid) => $"""
        <domain type='test'>
          <name>{name}</name>
          <uuid>{uuid}</uuid>
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
        </domain>
        """;

    private static LibvirtConnection Open(string uri, bool readOnly, string what, string install)
    {
        try
        {
            return LibvirtConnection.Open(uri, readOnly);
        }
        catch (LibvirtException ex)
        {
            TestEnvironment.Unavailable(what, $"{ex.Message}; install {install}");
            throw new UnreachableException();
        }
    }
}
