using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>
/// The real path on this machine: libvirtd, a directory pool, a qcow2 overlay on a raw boot-sector image, QEMU (KVM
/// when libvirt can use it, TCG otherwise) and a guest that writes a line to its serial console.
/// </summary>
public sealed class QemuGuestTests : IDisposable
{
    private const int StartedBooted = 0;     // VIR_DOMAIN_EVENT_STARTED_BOOTED
    private const int StartedRestored = 2;   // VIR_DOMAIN_EVENT_STARTED_RESTORED
    private const int StoppedDestroyed = 1;  // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
    private const int StoppedSaved = 4;      // VIR_DOMAIN_EVENT_STOPPED_SAVED
    private const int ShutoffSaved = 5;      // VIR_DOMAIN_SHUTOFF_SAVED
    private static readonly TimeSpan ConsolePatience = TimeSpan.FromSeconds(120); // a loaded two-core machine can starve a guest that long
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    [Fact]
    public async Task Starts_domain_and_guest_writes_to_serial_console()
    {
        using var connection = LibvirtTestHost.OpenQemu();
        var guest = PrepareGuest(connection);
        var recorder = new EventRecorder();
        using var subscription = connection.SubscribeDomainLifecycle(recorder.Record, guest.Uuid);

        using var domain = connection.DefineDomain(guest.Xml);
        domain.Start();

        await WaitForConsoleAsync(guest.ConsoleLog);
        var started = await recorder.WaitForAsync(guest.Uuid, DomainEventType.Started);
        Assert.Equal((guest.Name, StartedBooted), (started.DomainName, started.Detail));
        Assert.Equal(DomainState.Running, domain.GetInfo().State);
        Assert.Equal(LibvirtTestHost.DomainType(connection), (string?)XDocument.Parse(domain.GetXmlDesc()).Root!.Attribute("type"));

        domain.Destroy();
        var stopped = await recorder.WaitForAsync(guest.Uuid, DomainEventType.Stopped);
        Assert.Equal(StoppedDestroyed, stopped.Detail);
        domain.Undefine(DomainUndefineFlags.ManagedSave | DomainUndefineFlags.Nvram);
        await recorder.WaitForAsync(guest.Uuid, DomainEventType.Undefined);
        Assert.Null(connection.LookupDomainByUuid(guest.Uuid));

        using var pool = connection.LookupStoragePoolByName(guest.Pool)!;
        foreach (var volume in pool.ListAllVolumes())
        {
            using (volume)
                volume.Delete();
        }
        Assert.Empty(pool.ListAllVolumes());
        pool.Destroy();
        pool.Delete();
        pool.Undefine();
        Assert.Null(connection.LookupStoragePoolByName(guest.Pool));
        Assert.False(Directory.Exists(guest.PoolPath));
    }

    [Fact]
    public async Task Managed_save_of_a_running_guest_is_restored_by_the_next_start()
    {
        using var connection = LibvirtTestHost.OpenQemu();
        var guest = PrepareGuest(connection);
        var recorder = new EventRecorder();
        using var subscription = connection.SubscribeDomainLifecycle(recorder.Record, guest.Uuid);
        using var domain = connection.DefineDomain(guest.Xml);
        domain.Start();
        await WaitForConsoleAsync(guest.ConsoleLog);

        domain.ManagedSave();
        Assert.Equal(new DomainStateInfo(DomainState.Shutoff, ShutoffSaved), domain.GetState());
        Assert.True(domain.HasManagedSaveImage());
        Assert.Equal(StoppedSaved, (await recorder.WaitForAsync(guest.Uuid, DomainEventType.Stopped)).Detail);

        domain.Start();
        Assert.Equal(StartedRestored, (await recorder.WaitForAsync(e => e.Type == DomainEventType.Started && e.Detail == StartedRestored, "restore")).Detail);
        Assert.Equal(DomainState.Running, domain.GetState().State);
        Assert.False(domain.HasManagedSaveImage());
        domain.Destroy();
    }

    [Fact]
    public void Reports_the_qemu_host()
    {
        using var connection = LibvirtTestHost.OpenQemu();

        var node = connection.GetNodeInfo();
        var capabilities = XDocument.Parse(connection.GetCapabilities());

        Assert.Equal("QEMU", connection.HypervisorType);
        Assert.True(connection.HypervisorVersion.Major >= 2);
        Assert.True(node.Cpus >= 1);
        Assert.True(node.MemoryKiB > 0);
        Assert.InRange(connection.GetFreeMemoryBytes(), 1UL, node.MemoryKiB * 1024);
        Assert.Equal("x86_64", (string?)capabilities.Root!.Element("host")!.Element("cpu")!.Element("arch"));
        Assert.StartsWith(Environment.MachineName, connection.GetHostname(), StringComparison.OrdinalIgnoreCase);
        Assert.True(connection.IsAlive());
    }

    private sealed record Guest(string Name, Guid Uuid, string Xml, string ConsoleLog, string Pool, string PoolPath);

    /// <summary>A started directory pool holding the boot image and a qcow2 overlay on it, and the domain XML using the overlay.</summary>
    private Guest PrepareGuest(LibvirtConnection connection)
    {
        var root = _leftovers.Directory();
        var poolPath = Path.Combine(root, "pool");
        var poolName = _leftovers.Pool(connection);
        using var pool = connection.DefineStoragePool(QemuStorageTests.DirectoryPoolXml(poolName, poolPath));
        pool.Build();
        pool.Start();
        File.WriteAllBytes(Path.Combine(poolPath, "boot.raw"), GuestImage.Raw());
        pool.Refresh();
        using var backing = pool.LookupVolumeByName("boot.raw") ?? throw new InvalidOperationException("refresh did not find boot.raw");
        using var overlay = pool.CreateVolume(QemuStorageTests.OverlayXml("disk.qcow2", GuestImage.RawBytes, backing.GetPath()));

        var name = _leftovers.Domain(connection);
        var uuid = Guid.NewGuid();
        var consoleLog = Path.Combine(root, "console.log");
        var xml = $"""
            <domain type='{LibvirtTestHost.DomainType(connection)}'>
              <name>{name}</name>
              <uuid>{uuid}</uuid>
              <memory unit='MiB'>64</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
              <devices>
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='{overlay.GetPath()}'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
                <serial type='file'>
                  <source path='{consoleLog}'/>
                  <target port='0'/>
                </serial>
                <memballoon model='none'/>
              </devices>
            </domain>
            """;
        return new Guest(name, uuid, xml, consoleLog, poolName, poolPath);
    }

    private static async Task WaitForConsoleAsync(string consoleLog)
    {
        var deadline = DateTime.UtcNow + ConsolePatience;
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(consoleLog))
            {
                // QEMU holds the file open for writing.
                using var stream = new FileStream(consoleLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream);
                text = await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
                if (text.Contains(GuestImage.Message, StringComparison.Ordinal))
                    return;
            }
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
        Assert.Fail($"the guest did not write {GuestImage.Message} to {consoleLog} within {ConsolePatience.TotalSeconds} s; console so far: '{text}'");
    }
}
