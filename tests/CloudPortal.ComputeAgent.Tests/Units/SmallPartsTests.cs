using CloudPortal.ComputeAgent.Console;
using CloudPortal.ComputeAgent.Hypervisor;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.ComputeAgent.Storage;
using CloudPortal.Contracts.Compute;
using Xunit;

namespace CloudPortal.ComputeAgent.Tests.Units;

public sealed class PowerStatesTests
{
    [Theory]
    [InlineData(DomainState.Running, false, PowerState.Running)]
    [InlineData(DomainState.Blocked, false, PowerState.Running)]
    [InlineData(DomainState.Paused, false, PowerState.Paused)]
    [InlineData(DomainState.Shutdown, false, PowerState.Shutdown)]
    [InlineData(DomainState.Shutoff, false, PowerState.Shutdown)]
    [InlineData(DomainState.Shutoff, true, PowerState.Suspended)]
    [InlineData(DomainState.Crashed, false, PowerState.Crashed)]
    [InlineData(DomainState.PMSuspended, false, PowerState.Suspended)]
    [InlineData(DomainState.NoState, false, PowerState.NoState)]
    public void Maps_libvirt_states_to_nova_power_states(DomainState state, bool managedSave, PowerState expected) =>
        Assert.Equal(expected, PowerStates.From(state, managedSave));

    [Theory]
    [InlineData(DomainEventType.Started, 0, PowerState.Running, "started: booted")]
    [InlineData(DomainEventType.Stopped, 1, PowerState.Shutdown, "stopped: destroyed")]
    [InlineData(DomainEventType.Stopped, 2, PowerState.Crashed, "stopped: crashed")]
    [InlineData(DomainEventType.Stopped, 4, PowerState.Suspended, "stopped: saved")]
    [InlineData(DomainEventType.Suspended, 0, PowerState.Paused, "suspended: paused")]
    [InlineData(DomainEventType.Resumed, 0, PowerState.Running, "resumed: unpaused")]
    [InlineData(DomainEventType.Undefined, 0, PowerState.NoState, "undefined: removed")]
    [InlineData(DomainEventType.PMSuspended, 0, PowerState.Suspended, "pm-suspended: memory")]
    public void Turns_lifecycle_events_into_power_states_with_a_reason(DomainEventType type, int detail, PowerState expected, string reason)
    {
        Assert.Equal(expected, PowerStates.FromEvent(type, detail));
        Assert.Equal(reason, PowerStates.Describe(type, detail));
    }

    [Fact]
    public void Events_that_change_no_power_state_are_ignored()
    {
        Assert.Null(PowerStates.FromEvent(DomainEventType.Defined, 0));
        Assert.Null(PowerStates.FromEvent(DomainEventType.Shutdown, 0));
        Assert.Equal("stopped: detail 42", PowerStates.Describe(DomainEventType.Stopped, 42));
    }
}

public sealed class ConsoleLogReaderTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"cp-test-console-{Guid.NewGuid():N}.log");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public void Returns_the_last_lines_whatever_the_line_endings()
    {
        File.WriteAllText(_file, "SeaBIOS\r\nbooting\r\nCLOUDPORTAL-GUEST-OK\r\n");

        Assert.Equal(("booting\nCLOUDPORTAL-GUEST-OK", true), ConsoleLogReader.Tail(_file, 2));
        Assert.Equal(("SeaBIOS\nbooting\nCLOUDPORTAL-GUEST-OK", false), ConsoleLogReader.Tail(_file, 100));
    }

    [Fact]
    public void A_log_not_written_yet_is_empty()
    {
        Assert.Equal(("", false), ConsoleLogReader.Tail(_file, 10));
    }

    [Fact]
    public void Reads_at_most_the_last_megabyte_and_drops_the_line_it_cut()
    {
        var line = new string('x', 1000);
        File.WriteAllLines(_file, Enumerable.Range(0, 2000).Select(i => $"{i:D4} {line}"));

        var (output, truncated) = ConsoleLogReader.Tail(_file, ConsoleLogReader.MaxLines);

        Assert.True(truncated);
        Assert.EndsWith("1999 " + line, output, StringComparison.Ordinal);
        Assert.All(output.Split('\n'), l => Assert.Equal(1005, l.Length));
    }
}

public sealed class InstanceLocksTests
{
    [Fact]
    public async Task Holders_of_one_key_take_turns_and_other_keys_do_not_wait()
    {
        var locks = new InstanceLocks();
        var key = Guid.NewGuid();
        var first = await locks.AcquireAsync(key, TestContext.Current.CancellationToken);

        var second = locks.AcquireAsync(key, TestContext.Current.CancellationToken);
        using (await locks.AcquireAsync(Guid.NewGuid(), TestContext.Current.CancellationToken))
            Assert.False(second.IsCompleted);
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Dispose();

        using var again = await locks.AcquireAsync(key, TestContext.Current.CancellationToken);
    }
}

public sealed class ImageSourceValidationTests
{
    private static readonly ImageSource Good = new(Guid.Parse("0b8e0c1e-3a53-4a0c-9f3e-2d7f5b1f3c11"), new Uri("http://images:8080/images/v2/images/x/file"),
        "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", 10, DiskFormats.Qcow2);

    [Fact]
    public void Names_the_cached_base_by_image_checksum_and_format() =>
        Assert.Equal("0b8e0c1e-3a53-4a0c-9f3e-2d7f5b1f3c11-abcdef0123456789.qcow2", ImageCache.VolumeName(Good));

    [Fact]
    public void Refuses_what_cannot_be_a_downloadable_bootable_image()
    {
        ImageCache.Validate(Good);
        Assert.Equal(AgentFailureCodes.InvalidImageSource, Assert.Throws<AgentFailureException>(() => ImageCache.Validate(Good with { Url = null! })).Code);
        Assert.Throws<AgentFailureException>(() => ImageCache.Validate(Good with { Url = new Uri("file:///etc/shadow") }));
        Assert.Throws<AgentFailureException>(() => ImageCache.Validate(Good with { Sha256 = "xyz" }));
        Assert.Throws<AgentFailureException>(() => ImageCache.Validate(Good with { DiskFormat = "vmdk" }));
        Assert.Throws<AgentFailureException>(() => ImageCache.Validate(Good with { SizeBytes = -1 }));
    }
}
