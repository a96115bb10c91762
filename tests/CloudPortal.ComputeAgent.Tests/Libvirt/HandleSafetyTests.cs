using System.Collections.Concurrent;
using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>The wrappers under concurrency and after Dispose.</summary>
public sealed class HandleSafetyTests : IDisposable
{
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose() => _leftovers.Dispose();

    [Fact]
    public void Disposed_wrappers_throw_ObjectDisposedException_and_dispose_twice_safely()
    {
        var connection = LibvirtTestHost.OpenTestDriver();
        var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        var pool = connection.DefineStoragePool($"<pool type='dir'><name>{_leftovers.Pool(connection)}</name><target><path>/p</path></target></pool>");

        domain.Dispose();
        domain.Dispose();
        pool.Dispose();
        connection.Dispose();
        connection.Dispose();

        Assert.Throws<ObjectDisposedException>(() => domain.Name);
        Assert.Throws<ObjectDisposedException>(() => domain.Start());
        Assert.Throws<ObjectDisposedException>(() => pool.GetInfo());
        Assert.Throws<ObjectDisposedException>(() => connection.HypervisorType);
        Assert.Throws<ObjectDisposedException>(() => connection.LookupDomainByName("x"));
    }

    [Fact]
    public void Domain_stays_usable_after_its_connection_is_disposed()
    {
        LibvirtDomain domain;
        using (var connection = LibvirtTestHost.OpenTestDriver())
            domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));

        using (domain)
        {
            domain.Start();
            Assert.Equal(DomainState.Running, domain.GetInfo().State);
        }
    }

    [Fact]
    public async Task Calls_racing_with_dispose_either_succeed_or_see_ObjectDisposedException()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var domain = connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid()));
        // Dispose comes once every worker has completed a call, so it lands while they are all calling (a fixed sleep
        // did not guarantee that on a loaded host, where a worker could still be waiting for a core).
        using var calling = new CountdownEvent(4);

        // Each worker calls until it sees the disposal; any other exception fails the test through WhenAll.
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var calls = 0; calls < 10_000_000; calls++)
            {
                try
                {
                    _ = domain.GetInfo();
                    _ = domain.Name;
                }
                catch (ObjectDisposedException)
                {
                    return calls;
                }
                if (calls == 0)
                    calling.Signal();
            }
            return -1;
        })).ToArray();
        Assert.True(calling.Wait(TimeSpan.FromMinutes(1)), "every worker completed a call");
        domain.Dispose();
        var callsBeforeDispose = await Task.WhenAll(workers);

        Assert.All(callsBeforeDispose, calls => Assert.InRange(calls, 1, int.MaxValue));
        Assert.Throws<ObjectDisposedException>(() => domain.GetInfo());
    }

    [Fact]
    public void Each_thread_gets_its_own_libvirt_error()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var domains = Enumerable.Range(0, 4)
            .Select(_ => connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), Guid.NewGuid())))
            .ToList();
        foreach (var domain in domains)
            domain.Start();
        var names = domains.Select(d => d.Name).ToList();
        var mismatches = new ConcurrentBag<string>();

        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var index = i % domains.Count;
            if (i % 2 == 0)
            {
                // Fails (already running) with an error that names this domain and no other.
                var error = Assert.Throws<LibvirtException>(() => domains[index].Start());
                if (!error.Message.Contains(names[index], StringComparison.Ordinal) || !error.Message.Contains("already running", StringComparison.Ordinal))
                    mismatches.Add(error.Message);
            }
            else if (connection.LookupDomainByName($"{names[index]}-missing") is not null)
            {
                mismatches.Add($"found {names[index]}-missing");
            }
        });

        Assert.True(mismatches.IsEmpty, string.Join(Environment.NewLine, mismatches.Take(5)));
        foreach (var domain in domains)
            domain.Dispose();
    }
}
