using CloudPortal.ComputeAgent.Libvirt;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>
/// What a test creates in libvirt, named <c>cp-test-...</c> and removed when the test class is disposed, whether
/// the test passed or not. Cleanup failures are thrown from there, so xunit reports them with the test.
/// </summary>
internal sealed class LibvirtLeftovers : IDisposable
{
    private readonly List<(string Uri, string Name)> _domains = [];
    private readonly List<(string Uri, string Name)> _pools = [];
    private readonly List<string> _directories = [];
    private readonly Lock _gate = new();

    public string Domain(LibvirtConnection connection)
    {
        var name = UniqueName("dom");
        lock (_gate)
            _domains.Add((connection.Uri, name));
        return name;
    }

    public string Pool(LibvirtConnection connection)
    {
        var name = UniqueName("pool");
        lock (_gate)
            _pools.Add((connection.Uri, name));
        return name;
    }

    /// <summary>A domain named by someone else (the agent's <c>cp-{id}</c>), removed like the test's own.</summary>
    public void TrackDomain(string uri, string name)
    {
        lock (_gate)
            _domains.Add((uri, name));
    }

    /// <summary>A pool named by the test but created by someone else (the agent), removed with its volumes.</summary>
    public void TrackPool(string uri, string name)
    {
        lock (_gate)
            _pools.Add((uri, name));
    }

    /// <summary>A fresh directory under /tmp, removed with everything in it.</summary>
    public string Directory()
    {
        var path = Path.Combine(Path.GetTempPath(), UniqueName("dir"));
        System.IO.Directory.CreateDirectory(path);
        lock (_gate)
            _directories.Add(path);
        return path;
    }

    public static string UniqueName(string kind) => $"cp-test-{kind}-{Guid.NewGuid():N}"[..30];

    public void Dispose()
    {
        var failures = new List<Exception>();
        var connections = new Dictionary<string, LibvirtConnection>();
        LibvirtConnection Connect(string uri) =>
            connections.TryGetValue(uri, out var c) ? c : connections[uri] = LibvirtConnection.Open(uri);
        try
        {
            // Domains first: they hold the volumes open.
            foreach (var (uri, name) in _domains)
                Try(failures, () => RemoveDomain(Connect(uri), name));
            foreach (var (uri, name) in _pools)
                Try(failures, () => RemovePool(Connect(uri), name));
            foreach (var path in _directories)
                Try(failures, () =>
                {
                    if (System.IO.Directory.Exists(path))
                        System.IO.Directory.Delete(path, recursive: true);
                });
        }
        finally
        {
            foreach (var connection in connections.Values)
                connection.Dispose();
        }
        if (failures.Count > 0)
            throw new AggregateException("cleaning up libvirt objects failed", failures);
    }

    private static void RemoveDomain(LibvirtConnection connection, string name)
    {
        using var domain = connection.LookupDomainByName(name);
        if (domain is null)
            return;
        if (domain.IsActive())
            domain.Destroy();
        // A transient domain vanishes with Destroy.
        if (connection.LookupDomainByName(name) is { } still)
        {
            // The test driver rejects the NVRAM flag.
            var flags = connection.HypervisorType == "TEST"
                ? DomainUndefineFlags.ManagedSave
                : DomainUndefineFlags.ManagedSave | DomainUndefineFlags.Nvram;
            using (still)
                still.Undefine(flags);
        }
    }

    private static void RemovePool(LibvirtConnection connection, string name)
    {
        using var pool = connection.LookupStoragePoolByName(name);
        if (pool is null)
            return;
        if (!pool.IsActive())
            pool.Start();
        // Files libvirt has not listed yet (a download's .part) would keep the directory from being deleted.
        pool.Refresh();
        foreach (var volume in pool.ListAllVolumes())
        {
            using (volume)
                volume.Delete();
        }
        pool.Destroy();
        if (pool.IsPersistent())
        {
            pool.Delete();
            pool.Undefine();
        }
    }

    private static void Try(List<Exception> failures, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            failures.Add(ex);
        }
    }
}
