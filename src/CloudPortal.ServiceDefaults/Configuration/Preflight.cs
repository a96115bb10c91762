using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CloudPortal.ServiceDefaults.Configuration;

/// <summary>
/// Checks an operator can act on, run before the host starts: each failure becomes one
/// <see cref="StartupException"/> naming the setting to fix, instead of a retry loop or a stack trace.
/// </summary>
public static class Preflight
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <param name="needsBus">False for admin commands, which start no bus.</param>
    public static async Task CheckAsync(CloudPortalOptions options, bool needsDatabase, bool needsBus = true, CancellationToken cancellationToken = default)
    {
        EnsureDataDirWritable(options.FullDataDir);
        if (needsDatabase && options.Database.Provider == DatabaseProvider.Postgres)
            await CheckPostgresAsync(options, cancellationToken).ConfigureAwait(false);
        if (needsBus && options.Bus.UsesRabbitMq)
            await CheckRabbitMqAsync(options.Bus.RabbitMq!, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Tries each <c>--urls</c> address before Kestrel does, because Kestrel logs a taken port as a
    /// critical error with a stack trace.
    /// </summary>
    public static void EnsureCanListen(string? urls)
    {
        if (string.IsNullOrWhiteSpace(urls))
            return;
        foreach (var address in ListenUrls.Parse(urls))
        {
            var url = address.ToString();
            var ip = address.Host switch
            {
                _ when ListenUrls.IsWildcard(address.Host) => IPAddress.Any,
                "localhost" => IPAddress.Loopback,
                var host => IPAddress.TryParse(host.Trim('[', ']'), out var parsed) ? parsed : null,
            };
            if (ip is null || address.Port == 0)
                continue;
            var listener = new TcpListener(ip, address.Port);
            try
            {
                listener.Start();
            }
            catch (SocketException ex)
            {
                throw new StartupException($"cannot listen on {url}: {ex.Message} (set --urls)", ex);
            }
            finally
            {
                listener.Stop();
            }
        }
    }

    public static void EnsureDataDirWritable(string dataDir)
    {
        try
        {
            DataDirectory.Create(dataDir);
            var probe = Path.Combine(dataDir, $".write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new StartupException($"data directory '{dataDir}' is not writable: {ex.Message} (set --data-dir or CloudPortal:DataDir)", ex);
        }
    }

    private static async Task CheckPostgresAsync(CloudPortalOptions options, CancellationToken cancellationToken)
    {
        // The server's maintenance database: module databases may not exist yet (migrations create them).
        var builder = new NpgsqlConnectionStringBuilder(ModuleConnections.Postgres(options, "preflight"))
        {
            Database = "postgres",
            Timeout = (int)Timeout.TotalSeconds,
        };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ToString());
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new StartupException($"cannot reach PostgreSQL at {builder.Host}:{builder.Port} as '{builder.Username}': {Innermost(ex)} (check CloudPortal:Database:Postgres)", ex);
        }
    }

    private static async Task CheckRabbitMqAsync(string address, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = RabbitMqAddress.Parse(address),
            RequestedConnectionTimeout = Timeout,
            AutomaticRecoveryEnabled = false,
        };
        try
        {
            await using var connection = await factory.CreateConnectionAsync("cloudportal-preflight", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or OperationInterruptedException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StartupException($"cannot reach RabbitMQ at {RabbitMqAddress.Redact(address)}: {Innermost(ex)} (check CloudPortal:Bus:RabbitMq)", ex);
        }
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
            ex = ex.InnerException;
        return ex.Message;
    }
}
