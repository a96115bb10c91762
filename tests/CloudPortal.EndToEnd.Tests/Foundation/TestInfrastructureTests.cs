using System.Globalization;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>The shared test helpers keep their promises: child processes never hang a test, reserved ports are not handed out twice.</summary>
public sealed class TestInfrastructureTests
{
    [Fact]
    public async Task A_child_that_fills_both_pipes_finishes_with_all_its_output()
    {
        // Far beyond a pipe's 64 KiB buffer, on both streams: a runner that read one stream after the other would deadlock.
        var result = await ChildProcess.RunAsync("/bin/sh", ["-c", "head -c 1000000 /dev/zero | tr '\\0' o; head -c 1000000 /dev/zero | tr '\\0' e >&2; exit 3"]);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(1_000_000, result.StandardOutput.Length);
        Assert.Equal(1_000_000, result.StandardError.Length);
    }

    [Fact]
    public async Task A_child_that_outlives_its_timeout_is_killed_with_its_children_and_the_test_sees_what_it_printed()
    {
        // The shell prints the pid of a child it starts, then waits on it forever.
        var timedOut = await Assert.ThrowsAsync<TimeoutException>(() => ChildProcess.RunAsync("/bin/sh", ["-c", "sleep 600 & echo child=$!; wait"], TimeSpan.FromSeconds(2)));

        var line = timedOut.Message.Split('\n').Single(l => l.StartsWith("child=", StringComparison.Ordinal));
        var child = int.Parse(line["child=".Length..], CultureInfo.InvariantCulture);
        await CloudPortal.Testing.Eventually.TrueAsync(() => Task.FromResult(!Directory.Exists($"/proc/{child}")), $"sleep (pid {child}) gone");
    }

    [Fact]
    public async Task Reserved_ports_are_distinct_below_the_ephemeral_range_and_locked_against_other_processes()
    {
        var ports = Enumerable.Range(0, 20).Select(_ => FreePort.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], CultureInfo.InvariantCulture);
        Assert.All(ports, p => Assert.InRange(p, 10000, ephemeralLow - 1));

        // Another process (util-linux flock, as a second test process would) cannot take the reservation.
        var lockFile = Path.Combine(Path.GetTempPath(), "cloudportal-test-ports", ports[0].ToString(CultureInfo.InvariantCulture));
        var other = await ChildProcess.RunAsync("flock", ["--nonblock", "--exclusive", lockFile, "true"]);
        Assert.True(other.ExitCode != 0, $"flock took the lock on {lockFile}: {other.Output}");
        // ... while an unreserved file locks fine, so the refusal above is the reservation's.
        var free = Path.GetTempFileName();
        try
        {
            Assert.Equal(0, (await ChildProcess.RunAsync("flock", ["--nonblock", "--exclusive", free, "true"])).ExitCode);
        }
        finally
        {
            File.Delete(free);
        }
    }
}
