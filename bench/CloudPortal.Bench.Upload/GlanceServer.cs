using System.Diagnostics;
using System.Globalization;
using CloudPortal.Bench.Common;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Upload;

/// <summary>
/// OpenStack Glance's API (Debian's <c>glance-api</c>, as installed; the bench installs nothing) standalone, as the
/// reference: its own configuration, SQLite database and file store in a temporary directory, on a loopback port, with
/// no Keystone. Stopped (killed with its children) and the directory deleted on dispose. Nothing packaged is used but
/// the program and its paste pipeline, so a packaged glance-api service, running or not, does not matter.
/// </summary>
internal sealed class GlanceServer : IDisposable
{
    /// <summary>The paste pipelines Debian ships: /etc/glance once the package is configured, the package's copy otherwise.</summary>
    private static readonly string[] PasteIniCandidates = ["/etc/glance/glance-api-paste.ini", "/usr/share/glance-common/glance-api-paste.ini"];

    private readonly Process _process;
    private readonly string _directory;
    private readonly OutputTail _output;

    private GlanceServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
        _output = OutputTail.Of(process);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>glance-api's process and its children (none with <c>workers = 0</c>, as configured: the one process serves).</summary>
    public IReadOnlyList<int> Pids => [_process.Id, .. Descendants(_process.Id)];

    /// <summary>Where the file store keeps the images: under the temporary directory the bench makes its files in.</summary>
    public string ImagesDirectory => Path.Combine(_directory, "images");

    /// <summary>Whether <paramref name="glanceApi"/> is there and which package version it is (null when not installed).</summary>
    public static async Task<string?> InstalledVersionAsync(string glanceApi)
    {
        if (!File.Exists(glanceApi))
            return null;
        try
        {
            var version = (await Tools.RunAsync("dpkg-query", "-W", "-f=${Version}", "glance-api")).Trim();
            return version.Length > 0 ? version : "unknown version";
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "unknown version"; // not a Debian package, or no dpkg: the program is there all the same
        }
    }

    public static async Task<GlanceServer> StartAsync(string glanceApi, CancellationToken cancellationToken)
    {
        var paste = PasteIniCandidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"no glance-api-paste.ini in {string.Join(" or ", PasteIniCandidates)}");
        var directory = Path.Combine(Path.GetTempPath(), $"cloudportal-bench-glance-{Guid.NewGuid():N}");
        foreach (var sub in new[] { "images", "staging", "tasks", "locks", "conf.d" })
            Directory.CreateDirectory(Path.Combine(directory, sub));
        var port = FreePort.Next();
        var config = Path.Combine(directory, "glance-api.conf");
        await File.WriteAllTextAsync(config, Configuration(directory, port, paste), cancellationToken);
        // An empty --config-dir: without it oslo.config also reads /etc/glance/glance-api.conf.d/ if it exists.
        string[] configArgs = ["--config-file", config, "--config-dir", Path.Combine(directory, "conf.d")];
        GlanceServer? server = null;
        try
        {
            var manage = Path.Combine(Path.GetDirectoryName(glanceApi)!, "glance-manage");
            await Tools.RunAsync(File.Exists(manage) ? manage : "glance-manage", [.. configArgs, "db_sync"]);

            var info = new ProcessStartInfo(glanceApi) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in configArgs)
                info.ArgumentList.Add(arg);
            server = new GlanceServer(Process.Start(info) ?? throw new InvalidOperationException($"cannot start {glanceApi}"), directory, port);
            await server.WaitUntilListeningAsync(cancellationToken);
            return server;
        }
        catch
        {
            if (server is not null)
                server.Dispose();
            else
                Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>glance-api.conf for Glance 25 (Debian 12): every setting is there because the standalone run needs it.</summary>
    private static string Configuration(string directory, int port, string paste) => $"""
        [DEFAULT]
        # Loopback only, on a port reserved like the test servers' (FreePort).
        bind_host = 127.0.0.1
        bind_port = {port}
        # 0: one process serves every request (eventlet green threads) instead of forking a worker per CPU, so the peak
        # RSS measured is the serving process's own and not split over a parent that only waits and its workers.
        workers = 0
        # Multi-store configuration (the non-deprecated one in Glance 25): one file backend named "local".
        enabled_backends = local:file
        # No log file or /var/log/glance: the log goes to standard error, which the bench keeps the last lines of.
        use_stderr = true
        debug = false

        [database]
        # SQLite instead of MySQL: the database holds a row per image, nothing the upload path waits on much.
        connection = sqlite:///{Path.Combine(directory, "glance.sqlite")}

        [paste_deploy]
        # Empty flavor: the pipeline "glance-api" (unauthenticated-context, no authtoken): every request is an
        # unauthenticated admin, no Keystone needed. Also no image cache middleware (the "+caching" flavors).
        flavor =
        config_file = {paste}

        [glance_store]
        default_backend = local

        [local]
        # The images, on the same filesystem as CloudPortal's data directory and the test file.
        filesystem_store_datadir = {Path.Combine(directory, "images")}

        # The reserved stores multi-store Glance sets up at start-up (staging for image import, tasks for the task API).
        # A PUT of the data uses neither, but without these glance-api creates them under /var/lib/glance.
        [os_glance_staging_store]
        filesystem_store_datadir = {Path.Combine(directory, "staging")}

        [os_glance_tasks_store]
        filesystem_store_datadir = {Path.Combine(directory, "tasks")}

        [oslo_concurrency]
        # External locks (the store drivers take some) under the temporary directory, not /var/lib/glance.
        lock_path = {Path.Combine(directory, "locks")}

        """;

    private Task WaitUntilListeningAsync(CancellationToken cancellationToken) =>
        Listening.WaitAsync(_process, "glance-api", Port, TimeSpan.FromSeconds(90), _output, cancellationToken);

    /// <summary>Every process below <paramref name="pid"/>, from the parent pids in /proc/*/stat.</summary>
    private static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var child))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                parents[child] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // gone since the listing
            }
        }
        var found = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.TryDequeue(out var parent))
        {
            foreach (var (child, of) in parents)
            {
                if (of == parent)
                {
                    found.Add(child);
                    queue.Enqueue(child);
                }
            }
        }
        return found;
    }

    /// <summary>Its last lines of output.</summary>
    public string Output => _output.ToString();

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
