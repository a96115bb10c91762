using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Tests.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Agent;

/// <summary>
/// What every agent test has: a local image server, and cleanup of every domain, pool and directory it made in
/// libvirt, whether it passed or not (the agent of a test is disposed inside the test, before this runs).
/// </summary>
public abstract class AgentTestBase : IAsyncLifetime
{
    public const string Qemu = LibvirtTestHost.QemuSystem;
    public const string TestDriver = LibvirtTestHost.TestDriver;
    public static readonly FlavorSpec Tiny = new("cp.test-tiny", VCpus: 1, RamMb: 64, RootGb: 1);

    private ImageHttpServer? _images;

    internal LibvirtLeftovers Leftovers { get; } = new();

    internal ImageHttpServer Images => _images ?? throw new InvalidOperationException("not initialised");

    public async ValueTask InitializeAsync() => _images = await ImageHttpServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_images is not null)
            await _images.DisposeAsync();
        Leftovers.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The test's own connection (a failure naming what to install under CI, a skip elsewhere).</summary>
    internal static LibvirtConnection Open(string uri) => uri == Qemu ? LibvirtTestHost.OpenQemu() : LibvirtTestHost.OpenTestDriver();

    /// <summary>The boot-sector guest as a qcow2, served at a fresh Images-module-like URL.</summary>
    internal ImageSource BootImage()
    {
        var data = GuestImage.Qcow2();
        var id = Guid.NewGuid();
        return new ImageSource(id, Images.Serve($"/images/v2/images/{id}/compute-file", data), TestImages.Sha256(data), data.Length, DiskFormats.Qcow2);
    }

    /// <summary>A spawn for a new instance on <paramref name="agent"/>, whose domain the cleanup removes if the test does not.</summary>
    internal SpawnInstance NewSpawn(AgentHost agent, ImageSource image, FlavorSpec? flavor = null)
    {
        var spawn = new SpawnInstance(Guid.NewGuid(), Guid.NewGuid(), agent.Setup.Host, flavor ?? Tiny, image);
        Leftovers.TrackDomain(agent.Setup.EffectiveLibvirt, DomainXml.DomainName(spawn.InstanceId));
        return spawn;
    }

    internal static DomainStateInfo StateOf(LibvirtConnection connection, Guid instanceId)
    {
        using var domain = connection.LookupDomainByUuid(instanceId) ?? throw new Xunit.Sdk.XunitException($"no domain for instance {instanceId}");
        return domain.GetState();
    }

    internal static bool HasManagedSave(LibvirtConnection connection, Guid instanceId)
    {
        using var domain = connection.LookupDomainByUuid(instanceId)!;
        return domain.HasManagedSaveImage();
    }

    internal static IReadOnlyList<string> VolumeNames(LibvirtConnection connection, string pool)
    {
        using var found = connection.LookupStoragePoolByName(pool);
        if (found is null)
            return [];
        found.Refresh();
        var volumes = found.ListAllVolumes();
        var names = volumes.Select(v => v.Name).ToList();
        foreach (var volume in volumes)
            volume.Dispose();
        return names;
    }

    /// <summary>Nothing of the instance in libvirt: no domain, no overlay; and no half-downloaded image anywhere.</summary>
    internal static void AssertNothingLeft(LibvirtConnection connection, AgentHost agent, Guid instanceId)
    {
        using (var domain = connection.LookupDomainByUuid(instanceId))
            Assert.Null(domain);
        Assert.DoesNotContain(VolumeNames(connection, agent.Setup.InstancesPool), n => n.StartsWith(instanceId.ToString(), StringComparison.Ordinal));
        if (Directory.Exists(agent.Setup.ImagesPath))
            Assert.Empty(Directory.EnumerateFiles(agent.Setup.ImagesPath, "*.part"));
        if (Directory.Exists(agent.Setup.InstancesPath))
            Assert.DoesNotContain(Directory.EnumerateFiles(agent.Setup.InstancesPath), f => Path.GetFileName(f).StartsWith(instanceId.ToString(), StringComparison.Ordinal));
    }

    // A loaded two-core machine has starved a booting guest for over a minute.
    private static readonly TimeSpan ConsolePatience = TimeSpan.FromSeconds(120);

    /// <summary>Polls the console log through the agent until <paramref name="count"/> boots have written the guest's line.</summary>
    internal static async Task<string> WaitForConsoleAsync(ComputeSide compute, Guid instanceId, int count = 1)
    {
        var deadline = DateTime.UtcNow + ConsolePatience;
        var output = "";
        while (DateTime.UtcNow < deadline)
        {
            var answer = await compute.RequestAsync<GetConsoleLog, ConsoleLog>(new GetConsoleLog(instanceId, compute.Host, 50));
            output = Assert.IsType<ConsoleLog>(answer).Output;
            if (Occurrences(output, GuestImage.Message) >= count)
                return output;
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
        throw new Xunit.Sdk.XunitException($"the console log did not show {GuestImage.Message} {count} time(s) within {ConsolePatience.TotalSeconds} s; it says: '{output}'");
    }

    internal static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
            count++;
        return count;
    }
}
