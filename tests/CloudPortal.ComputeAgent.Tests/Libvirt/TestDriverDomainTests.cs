using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Domain operations against libvirt's simulated driver.</summary>
public sealed class TestDriverDomainTests : IDisposable
{
    private const int ShutoffSaved = 5;       // VIR_DOMAIN_SHUTOFF_SAVED
    private const int ShutoffDestroyed = 2;   // VIR_DOMAIN_SHUTOFF_DESTROYED
    private const int PausedUser = 1;         // VIR_DOMAIN_PAUSED_USER
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    [Fact]
    public void Defines_a_domain_that_stays_shut_off()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        var uuid = Guid.NewGuid();

        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, uuid), DomainDefineFlags.Validate);

        Assert.Equal(name, domain.Name);
        Assert.Equal(uuid, domain.Uuid);
        Assert.Null(domain.Id);
        Assert.False(domain.IsActive());
        Assert.True(domain.IsPersistent());
        Assert.Equal(DomainState.Shutoff, domain.GetState().State);
        var info = domain.GetInfo();
        Assert.Equal(new DomainInfo(DomainState.Shutoff, 65536, 65536, 1, info.CpuTimeNs), info);
    }

    [Fact]
    public void Starts_suspends_resumes_and_destroys_a_domain()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));

        domain.Start();
        Assert.True(domain.IsActive());
        Assert.NotNull(domain.Id);
        Assert.Equal(DomainState.Running, domain.GetInfo().State);

        domain.Suspend();
        Assert.Equal(new DomainStateInfo(DomainState.Paused, PausedUser), domain.GetState());

        domain.Resume();
        Assert.Equal(DomainState.Running, domain.GetState().State);

        domain.Destroy();
        Assert.Equal(new DomainStateInfo(DomainState.Shutoff, ShutoffDestroyed), domain.GetState());
        Assert.Null(domain.Id);
        Assert.False(domain.IsActive());
    }

    [Fact]
    public void Reboot_reset_and_shutdown_reach_the_driver()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        domain.Start();

        domain.Reset();
        domain.Reboot();
        Assert.Equal(DomainState.Running, domain.GetState().State);

        domain.Shutdown();
        Assert.Equal(DomainState.Shutoff, domain.GetState().State);
        // Rebooting a stopped domain is refused with libvirt's code, not silently ignored.
        Assert.Equal(LibvirtErrorCode.OperationInvalid, Assert.Throws<LibvirtException>(() => domain.Reboot()).ErrorCode);
    }

    [Fact]
    public void Looks_up_domains_by_name_and_uuid_and_returns_null_when_missing()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        var uuid = Guid.NewGuid();
        using var defined = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, uuid));

        using var byName = connection.LookupDomainByName(name);
        using var byUuid = connection.LookupDomainByUuid(uuid);

        Assert.Equal(uuid, byName?.Uuid);
        Assert.Equal(name, byUuid?.Name);
        Assert.Null(connection.LookupDomainByName(LibvirtLeftovers.UniqueName("missing")));
        Assert.Null(connection.LookupDomainByUuid(Guid.NewGuid()));
    }

    [Fact]
    public void Uuid_reads_the_same_as_in_the_domain_xml()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        // Let libvirt pick the UUID, so the binary-to-Guid conversion is checked against libvirt's own text form.
        var xml = LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.Empty).Replace($"<uuid>{Guid.Empty}</uuid>", "", StringComparison.Ordinal);
        using var domain = connection.DefineDomain(xml);

        var fromXml = Guid.Parse((string)XDocument.Parse(domain.GetXmlDesc()).Root!.Element("uuid")!);

        Assert.Equal(fromXml, domain.Uuid);
    }

    [Fact]
    public void Returns_live_and_inactive_xml()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, Guid.NewGuid()));
        domain.Start();

        var live = XDocument.Parse(domain.GetXmlDesc());
        var inactive = XDocument.Parse(domain.GetXmlDesc(DomainXmlFlags.Inactive));

        Assert.Equal(name, (string?)live.Root!.Element("name"));
        Assert.NotNull(live.Root.Attribute("id"));
        Assert.Null(inactive.Root!.Attribute("id"));
    }

    [Fact]
    public void Lists_domains_with_state_filters()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var running = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        using var stopped = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        running.Start();

        var all = Names(connection.ListAllDomains());
        var active = Names(connection.ListAllDomains(DomainListFlags.Active));
        var inactive = Names(connection.ListAllDomains(DomainListFlags.Inactive));

        Assert.Contains(running.Name, all);
        Assert.Contains(stopped.Name, all);
        Assert.Contains(running.Name, active);
        Assert.DoesNotContain(stopped.Name, active);
        Assert.Contains(stopped.Name, inactive);
        Assert.DoesNotContain(running.Name, inactive);
    }

    [Fact]
    public void Managed_save_stops_the_domain_and_start_restores_it()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        domain.Start();

        domain.ManagedSave();
        Assert.Equal(new DomainStateInfo(DomainState.Shutoff, ShutoffSaved), domain.GetState());
        Assert.True(domain.HasManagedSaveImage());
        Assert.Contains(domain.Name, Names(connection.ListAllDomains(DomainListFlags.ManagedSave)));

        domain.Start();
        Assert.Equal(DomainState.Running, domain.GetState().State);
        Assert.False(domain.HasManagedSaveImage());

        domain.ManagedSave();
        domain.ManagedSaveRemove();
        Assert.False(domain.HasManagedSaveImage());
    }

    [Fact]
    public void Undefine_refuses_a_saved_domain_unless_asked_to_remove_the_image()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, Guid.NewGuid()));
        domain.Start();
        domain.ManagedSave();

        var refused = Assert.Throws<LibvirtException>(() => domain.Undefine());
        domain.Undefine(DomainUndefineFlags.ManagedSave);

        Assert.Equal(LibvirtErrorCode.OperationInvalid, refused.ErrorCode);
        Assert.Null(connection.LookupDomainByName(name));
    }

    [Fact]
    public void Undefining_a_running_domain_leaves_it_running_as_transient()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, Guid.NewGuid()));
        domain.Start();

        domain.Undefine();

        Assert.True(domain.IsActive());
        Assert.False(domain.IsPersistent());
        domain.Destroy();
        Assert.Null(connection.LookupDomainByName(name));
    }

    [Fact]
    public void Autostart_can_be_switched_on_and_off()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));

        domain.SetAutostart(true);
        Assert.True(domain.GetAutostart());
        domain.SetAutostart(false);
        Assert.False(domain.GetAutostart());
    }

    [Fact]
    public void Failures_carry_libvirts_code_domain_and_message()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var name = _leftovers.Domain(connection);
        using var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(name, Guid.NewGuid()));
        domain.Start();

        var alreadyRunning = Assert.Throws<LibvirtException>(() => domain.Start());
        var badXml = Assert.Throws<LibvirtException>(() => connection.DefineDomain("<domain type='test'><name>"));

        // The test driver reports this one as an internal error, from its own error domain.
        Assert.Equal(LibvirtErrorCode.InternalError, alreadyRunning.ErrorCode);
        Assert.Equal(12, alreadyRunning.Domain); // VIR_FROM_TEST
        Assert.Contains(name, alreadyRunning.Message, StringComparison.Ordinal);
        Assert.Contains("already running", alreadyRunning.LibvirtMessage, StringComparison.Ordinal);
        Assert.Equal(LibvirtErrorCode.XmlDetail, badXml.ErrorCode);
        Assert.StartsWith("virDomainDefineXML failed: ", badXml.Message, StringComparison.Ordinal);
    }

    private static List<string> Names(IReadOnlyList<LibvirtDomain> domains)
    {
        var names = domains.Select(d => d.Name).ToList();
        foreach (var domain in domains)
            domain.Dispose();
        return names;
    }
}
