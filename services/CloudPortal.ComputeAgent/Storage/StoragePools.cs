using System.Xml.Linq;
using CloudPortal.ComputeAgent.Instances;
using CloudPortal.ComputeAgent.Libvirt;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.Extensions.Logging;

namespace CloudPortal.ComputeAgent.Storage;

/// <summary>
/// The node's two directory pools: the image cache and the instance disks. Each is defined (persistent, autostart)
/// the first time an instance needs it, not when the agent starts: an agent that never ran an instance leaves
/// nothing in libvirt. A pool that already exists under the configured name is used as it is, wherever it points.
/// </summary>
public sealed partial class StoragePools(AgentSettings settings, ILogger<StoragePools> log)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _warned = [];

    public LibvirtStoragePool Images(LibvirtConnection connection) => Ensure(connection, settings.ImagesPool, settings.ImagesPath);

    public LibvirtStoragePool Instances(LibvirtConnection connection) => Ensure(connection, settings.InstancesPool, settings.InstancesPath);

    /// <summary>The instance pool if it exists and runs; null otherwise (nothing is created).</summary>
    public LibvirtStoragePool? FindInstances(LibvirtConnection connection)
    {
        var pool = connection.LookupStoragePoolByName(settings.InstancesPool);
        if (pool is null || pool.IsActive())
            return pool;
        pool.Dispose();
        return null;
    }

    /// <summary>The directory a dir pool keeps its volumes in.</summary>
    public static string TargetPath(LibvirtStoragePool pool) =>
        (string?)XDocument.Parse(pool.GetXmlDesc()).Root?.Element("target")?.Element("path")
        ?? throw new LibvirtException($"storage pool {pool.Name} has no target path");

    private LibvirtStoragePool Ensure(LibvirtConnection connection, string name, string path)
    {
        lock (_gate)
        {
            LibvirtStoragePool? pool = null;
            try
            {
                pool = connection.LookupStoragePoolByName(name);
                if (pool is null)
                {
                    DataDirectory.CreateForQemu(path);
                    pool = connection.DefineStoragePool(PoolXml(name, path));
                    pool.SetAutostart(true);
                    LogPoolDefined(log, name, path);
                }
                else if (TargetPath(pool) is var actual && actual != path && _warned.Add(name))
                {
                    LogPoolElsewhere(log, name, actual, path);
                }
                if (!pool.IsActive())
                {
                    // The test driver keeps pools in memory, but the agent's downloads land in this directory all the same.
                    DataDirectory.CreateForQemu(TargetPath(pool));
                    pool.Start();
                }
                return pool;
            }
            catch (Exception ex) when (ex is LibvirtException or IOException or UnauthorizedAccessException)
            {
                pool?.Dispose();
                throw new AgentFailureException(AgentFailureCodes.StorageUnavailable, $"storage pool {name} at {path} is not usable: {ex.Message}", inner: ex);
            }
        }
    }

    private static string PoolXml(string name, string path) =>
        new XElement("pool", new XAttribute("type", "dir"),
            new XElement("name", name),
            new XElement("target", new XElement("path", path))).ToString();

    [LoggerMessage(Level = LogLevel.Information, Message = "Defined storage pool {Pool} at {Path}")]
    private static partial void LogPoolDefined(ILogger logger, string pool, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage pool {Pool} already exists at {Actual}, not at the configured {Configured}; using it where it is")]
    private static partial void LogPoolElsewhere(ILogger logger, string pool, string actual, string configured);
}
