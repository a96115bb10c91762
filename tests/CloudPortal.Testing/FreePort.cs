using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CloudPortal.Testing;

/// <summary>
/// Loopback ports for the processes tests start, reserved without a release-then-bind race.
/// <para>
/// A child is told its port before it starts (<c>--urls</c>, <c>RABBITMQ_NODE_PORT</c>) because other processes are
/// configured with it first (the authority URL, the portal's redirect URIs, a proxy's target), so letting the child
/// bind port 0 and report what it got does not fit. The usual trick (bind port 0, read the port, close, hand the
/// number on) races: until the child binds, the kernel may give the same port to someone else, as the source port of
/// any outgoing connection (the tests make thousands) or to another test process doing the same trick.
/// </para>
/// <para>
/// Both are closed off here. Ports come from just below the kernel's ephemeral range
/// (<c>/proc/sys/net/ipv4/ip_local_port_range</c>), which it never hands out by itself, neither for <c>connect</c> nor
/// for a bind to port 0. And each port is reserved for every test process on the machine by an exclusive lock
/// (.NET's <see cref="FileShare.None"/>, an <c>flock</c> on Linux) on a file named after it, held until this process
/// exits, when the kernel drops it even after a crash. A trial bind skips ports that something else already listens on;
/// what is left is a process outside the tests binding that very port in the moment between — not worth a retry loop.
/// </para>
/// </summary>
public static class FreePort
{
    private static readonly string Directory = Path.Combine(Path.GetTempPath(), "cloudportal-test-ports");
    private static readonly List<FileStream> Held = [];
    private static readonly Lock Gate = new();
    private static readonly (int Low, int High) Range = ReservableRange();

    /// <summary>A loopback port nobody listens on, and no other caller in any test process gets.</summary>
    public static int Next()
    {
        System.IO.Directory.CreateDirectory(Directory);
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Random.Shared.Next(Range.Low, Range.High);
                FileStream reservation;
                try
                {
                    reservation = new FileStream(Path.Combine(Directory, port.ToString(CultureInfo.InvariantCulture)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                }
                catch (IOException)
                {
                    continue; // reserved by this or another test process
                }
                if (!Bindable(port))
                {
                    reservation.Dispose();
                    continue;
                }
                Held.Add(reservation);
                return port;
            }
        }
        throw new InvalidOperationException($"no free loopback port in {Range.Low}-{Range.High} after 1000 tries");
    }

    private static bool Bindable(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Up to 12,000 ports below the ephemeral range, above 10,000 (clear of the usual service ports below it).</summary>
    private static (int, int) ReservableRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(text[0], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or no /proc: the Linux default.
        }
        if (ephemeralLow <= 11000)
            throw new InvalidOperationException($"the ephemeral port range starts at {ephemeralLow}: leave at least 1,000 ports between 10000 and it for test servers (sysctl net.ipv4.ip_local_port_range)");
        return (Math.Max(10000, ephemeralLow - 12000), ephemeralLow);
    }
}
