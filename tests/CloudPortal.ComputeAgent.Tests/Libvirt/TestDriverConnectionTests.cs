using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Connection-level calls against libvirt's simulated driver, whose host is fixed in libvirt's source.</summary>
public sealed class TestDriverConnectionTests
{
    [Fact]
    public void Reports_the_simulated_node_exactly_as_libvirt_defines_it()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();

        Assert.Equal("TEST", connection.HypervisorType);
        // The test driver's built-in host: these values cross the virNodeInfo struct field by field.
        Assert.Equal(new NodeInfo("i686", 3145728, 16, 1400, 2, 2, 2, 2), connection.GetNodeInfo());
    }

    [Fact]
    public void Reports_capabilities_hostname_free_memory_and_versions()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();

        var capabilities = XDocument.Parse(connection.GetCapabilities());
        Assert.Equal("capabilities", capabilities.Root!.Name.LocalName);
        Assert.Contains(capabilities.Root.Elements("guest"), g => (string?)g.Element("os_type") == "hvm");
        Assert.StartsWith(Environment.MachineName, connection.GetHostname(), StringComparison.OrdinalIgnoreCase);
        Assert.True(connection.GetFreeMemoryBytes() > 0);
        // In-process driver: the library serving the connection is the one loaded here.
        Assert.Equal(LibvirtConnection.GetClientLibraryVersion(), connection.GetLibraryVersion());
        Assert.True(connection.GetLibraryVersion() >= new Version(1, 2, 12));
        Assert.True(connection.IsAlive());
    }

    [Fact]
    public void Read_only_connection_can_query_but_not_define()
    {
        using var connection = LibvirtTestHost.OpenTestDriver(readOnly: true);

        Assert.NotEmpty(connection.ListAllDomains());
        var error = Assert.Throws<LibvirtException>(() =>
            connection.DefineDomain(LibvirtTestHost.TestDomainXml(LibvirtLeftovers.UniqueName("dom"), Guid.NewGuid())));
        Assert.Equal(LibvirtErrorCode.OperationDenied, error.ErrorCode);
    }

    [Fact]
    public void Opening_an_unknown_driver_throws_with_libvirts_error()
    {
        var error = Assert.Throws<LibvirtException>(() => LibvirtConnection.Open("nosuchdriver:///system"));

        Assert.Contains("nosuchdriver:///system", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(0, error.Code);
        Assert.False(string.IsNullOrEmpty(error.LibvirtMessage));
    }

    [Fact]
    public void Opening_a_connection_starts_the_event_loop()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();

        Assert.True(LibvirtEventLoop.IsRunning);
    }
}
