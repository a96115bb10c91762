using System.Xml.Linq;
using CloudPortal.ComputeAgent.Libvirt;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.ComputeAgent.Hypervisor;

/// <summary>What the agent is connected to.</summary>
/// <param name="Type">libvirt's driver name: <c>QEMU</c>, <c>TEST</c>.</param>
/// <param name="DomainType">The <c>&lt;domain type&gt;</c> instances get: <c>kvm</c> when libvirt can use /dev/kvm, else <c>qemu</c> (TCG); <c>test</c> when simulated.</param>
/// <param name="Simulated">libvirt's test driver: no real virtual machines.</param>
public sealed record HypervisorInfo(string Uri, string Type, string Version, string DomainType, bool Simulated);

/// <summary>libvirt could not be reached; the message says which URI and why.</summary>
/// <param name="reason">libvirt's own words, without the URI.</param>
public sealed class HypervisorUnavailableException(string message, string reason, Exception? inner = null) : Exception(message, inner)
{
    public string Reason { get; } = reason;
}

/// <summary>
/// The agent's one read-write libvirt connection, shared by every command, the event monitor and the reports
/// (libvirt connections are thread-safe). Opened on first use and reopened after libvirtd went away, so the agent
/// keeps running while libvirt is down and recovers by itself. <see cref="Generation"/> changes with each new
/// connection, which tells the event monitor to subscribe again.
/// </summary>
public sealed partial class HypervisorSession(IOptions<AgentOptions> options, ILogger<HypervisorSession> log) : IDisposable
{
    public const string SimulatedUri = "test:///default";
    private readonly Lock _gate = new();
    private LibvirtConnection? _connection;
    private HypervisorInfo? _info;
    private bool _simulatedFallback;
    private string? _lastFailure;
    private int _generation;
    private bool _disposed;

    /// <summary>What the last connection was to; null before the first one.</summary>
    public HypervisorInfo? Current
    {
        get
        {
            lock (_gate)
                return _info;
        }
    }

    /// <summary>Increases every time a new connection is opened.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>The live connection, (re)opened if needed.</summary>
    /// <exception cref="HypervisorUnavailableException">libvirt does not answer.</exception>
    public (LibvirtConnection Connection, HypervisorInfo Info) Connect()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null && _info is not null)
            {
                if (Alive(_connection))
                    return (_connection, _info);
                LogConnectionLost(log, _info.Uri);
                _connection.Dispose();
                _connection = null;
            }
            var uri = _simulatedFallback ? SimulatedUri : options.Value.Libvirt;
            LibvirtConnection connection;
            try
            {
                try
                {
                    connection = LibvirtConnection.Open(uri);
                }
                catch (LibvirtException ex) when (options.Value.SimulatedFallback && !_simulatedFallback)
                {
                    LogSimulatedFallback(log, uri, ex.Message, SimulatedUri);
                    _simulatedFallback = true;
                    uri = SimulatedUri;
                    connection = LibvirtConnection.Open(uri);
                }
            }
            catch (LibvirtException ex)
            {
                if (_lastFailure != ex.Message)
                    LogUnreachable(log, uri, ex.Message);
                _lastFailure = ex.Message;
                var reason = ex.LibvirtMessage ?? ex.Message;
                throw new HypervisorUnavailableException($"libvirt at {uri} is unreachable: {reason}", reason, ex);
            }
            try
            {
                var type = connection.HypervisorType;
                var simulated = type.Equals("TEST", StringComparison.OrdinalIgnoreCase);
                _info = new HypervisorInfo(uri, type, connection.HypervisorVersion.ToString(), simulated ? "test" : DomainTypeFor(connection), simulated);
            }
            catch (LibvirtException ex)
            {
                connection.Dispose();
                throw new HypervisorUnavailableException($"libvirt at {uri} answered but failed: {ex.Message}", ex.Message, ex);
            }
            _connection = connection;
            _lastFailure = null;
            Interlocked.Increment(ref _generation);
            LogConnected(log, options.Value.Host, uri, _info.Type, _info.Version, _info.DomainType, _info.Simulated ? " (SIMULATED: no real virtual machines)" : "");
            return (_connection, _info);
        }
    }

    /// <summary>Like <see cref="Connect"/>, for callers that carry on without libvirt (reports); <paramref name="failure"/> is libvirt's reason.</summary>
    public bool TryConnect(out LibvirtConnection connection, out HypervisorInfo info, out string? failure)
    {
        try
        {
            (connection, info) = Connect();
            failure = null;
            return true;
        }
        catch (HypervisorUnavailableException ex)
        {
            connection = null!;
            info = null!;
            failure = ex.Reason;
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
    }

    private static bool Alive(LibvirtConnection connection)
    {
        try
        {
            return connection.IsAlive();
        }
        catch (LibvirtException)
        {
            return false;
        }
    }

    /// <summary><c>kvm</c> when libvirt offers KVM for x86_64 guests (it checks /dev/kvm for us), otherwise <c>qemu</c>.</summary>
    public static string DomainTypeFor(LibvirtConnection connection)
    {
        var capabilities = XDocument.Parse(connection.GetCapabilities());
        var kvm = capabilities.Root!.Elements("guest")
            .Where(g => (string?)g.Element("os_type") == "hvm")
            .Elements("arch").Where(a => (string?)a.Attribute("name") == "x86_64")
            .Elements("domain").Any(d => (string?)d.Attribute("type") == "kvm");
        return kvm ? "kvm" : "qemu";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compute agent for node {Host} connected to libvirt at {Uri}: {Type} {Version}, instances run as domain type {DomainType}{Simulated}")]
    private static partial void LogConnected(ILogger logger, string host, string uri, string type, string version, string domainType, string simulated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "libvirt at {Uri} is unreachable ({Reason}); this node cannot run instances until it answers (the agent keeps retrying)")]
    private static partial void LogUnreachable(ILogger logger, string uri, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "libvirt at {Uri} is unreachable ({Reason}); running the SIMULATED hypervisor {SimulatedUri} instead: instances on this node are not real virtual machines")]
    private static partial void LogSimulatedFallback(ILogger logger, string uri, string reason, string simulatedUri);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection to libvirt at {Uri}; reconnecting")]
    private static partial void LogConnectionLost(ILogger logger, string uri);
}
