using CloudPortal.ComputeAgent.Libvirt;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Libvirt;

/// <summary>Stopping the process-wide event loop would starve every other test's events: these run alone.</summary>
[CollectionDefinition(nameof(EventLoopCollection), DisableParallelization = true)]
public sealed class EventLoopCollection;

[Collection(nameof(EventLoopCollection))]
public sealed class EventLoopTests : IDisposable
{
    private readonly LibvirtLeftovers _leftovers = new();

    public void Dispose()
    {
        LibvirtEventLoop.Start();
        _leftovers.Dispose();
    }

    [Fact]
    public async Task Stopped_loop_holds_events_back_until_it_is_started_again()
    {
        using var connection = LibvirtTestHost.OpenTestDriver();
        var uuid = Guid.NewGuid();
        var recorder = new EventRecorder();
        using var subscription = connection.SubscribeDomainLifecycle(recorder.Record, uuid);

        Assert.True(LibvirtEventLoop.Stop(TimeSpan.FromSeconds(10)));
        Assert.False(LibvirtEventLoop.IsRunning);
        using (connection.DefineDomain(LibvirtTestHost.TestDomainXml(_leftovers.Domain(connection), uuid)))
        {
        }
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.Empty(recorder.Seen);

        LibvirtEventLoop.Start();

        Assert.True(LibvirtEventLoop.IsRunning);
        await recorder.WaitForAsync(uuid, DomainEventType.Defined);
    }

    [Fact]
    public void Opening_a_connection_restarts_a_stopped_loop()
    {
        Assert.True(LibvirtEventLoop.Stop(TimeSpan.FromSeconds(10)));

        using var connection = LibvirtTestHost.OpenTestDriver();

        Assert.True(LibvirtEventLoop.IsRunning);
    }
}
