using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Compute;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Consoles;

public sealed record ConsoleLogView(Guid InstanceId, string Output, bool Truncated);

/// <param name="Url">The websocket to open (noVNC's <c>RFB</c> takes it as is); the ticket in it works once, until <paramref name="ExpiresAt"/>.</param>
public sealed record ConsoleView(Guid InstanceId, string Type, string Url, DateTime ExpiresAt);

/// <summary>
/// Consoles: the serial log's tail, and a browser VNC console through Compute's websocket proxy (Nova's novncproxy). The
/// VNC server of an instance listens on its node's management address only; a tenant reaches it through this proxy
/// with a single-use ticket that expires in about a minute, and the proxy connects only where the ticket says.
/// </summary>
public static partial class ConsoleApi
{
    public const int MaxLines = 10_000;
    public const string WebsocketPath = "/compute/v1/console/websocket";

    public static RouteGroupBuilder MapConsoles(this RouteGroupBuilder api)
    {
        api.MapGet("/instances/{instanceId:guid}/console-log", Log).WithSummary("The last lines of the instance's serial console")
            .WithDescription($"`lines` 1-{MaxLines} (default 100), read from the instance's host.")
            .Produces<ConsoleLogView>().ProducesProblems(400, 403, 404, 409, 504);
        api.MapPost("/instances/{instanceId:guid}/console", Open).WithSummary("A VNC console: a websocket URL with a single-use ticket valid about a minute")
            .Produces<ConsoleView>().ProducesProblems(400, 403, 404, 409, 504);
        // The browser cannot send a bearer token on a websocket: the ticket is the credential.
        api.MapGet("/console/websocket", Proxy).AllowAnonymous().WithSummary("The VNC websocket proxy (redeems a console ticket)")
            .WithDescription("Open as a websocket (subprotocol `binary`, as noVNC does) with the URL `POST .../console` returned: the ticket works once, " +
                "before it expires, and the proxy then relays the instance's VNC (RFB) stream both ways.")
            .Produces(StatusCodes.Status101SwitchingProtocols).ProducesProblems(400, 401, 502);
        return api;
    }

    private static async Task<IResult> Log(Guid instanceId, int? lines, HttpContext http, ComputeDbContext db, IClientFactory clients, IOptions<ComputeOptions> options)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var count = lines ?? 100;
        if (count is < 1 or > MaxLines)
            return Problems.BadRequest("invalid_lines", "Invalid line count", $"'lines' is 1-{MaxLines}.");
        var instance = await InstancesApi.InScope(db, scope).AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId, http.RequestAborted);
        if (instance is null)
            return InstancesApi.NotFound(instanceId);
        if (instance.Host is not { } host || instance.Status == InstanceStatus.Deleted)
            return NoConsole(instance);
        var client = clients.CreateRequestClient<GetConsoleLog>(ComputeAgentQueue.Address(host), RequestTimeout.After(ms: (int)options.Value.RequestTimeout.TotalMilliseconds));
        try
        {
            var response = await client.GetResponse<ConsoleLog, ConsoleUnavailable>(new GetConsoleLog(instanceId, host, count), http.RequestAborted);
            if (response.Is(out Response<ConsoleLog>? log))
                return TypedResults.Ok(new ConsoleLogView(instanceId, log!.Message.Output, log.Message.Truncated));
            return response.Is(out Response<ConsoleUnavailable>? no) ? Unavailable(no!.Message) : NodeTimeout();
        }
        catch (MassTransitException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // No answer in time, or the bus is down: the node cannot be asked now.
            return NodeTimeout();
        }
    }

    private static async Task<IResult> Open(Guid instanceId, HttpContext http, ComputeDbContext db, IClientFactory clients, IOptions<ComputeOptions> options, TimeProvider time)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        var instance = await InstancesApi.InScope(db, scope).AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId, http.RequestAborted);
        if (instance is null)
            return InstancesApi.NotFound(instanceId);
        if (instance.Host is not { } host || instance.Status is not (InstanceStatus.Active or InstanceStatus.Paused))
            return Problems.Conflict("invalid_state", "No console in this state",
                $"Instance {instanceId} is {InstanceTransitions.Lower(instance.Status)}; a VNC console needs it active (or paused).");
        var client = clients.CreateRequestClient<GetVncEndpoint>(ComputeAgentQueue.Address(host), RequestTimeout.After(ms: (int)options.Value.RequestTimeout.TotalMilliseconds));
        VncEndpoint endpoint;
        try
        {
            var response = await client.GetResponse<VncEndpoint, ConsoleUnavailable>(new GetVncEndpoint(instanceId, host), http.RequestAborted);
            if (!response.Is(out Response<VncEndpoint>? vnc))
                return response.Is(out Response<ConsoleUnavailable>? no) ? Unavailable(no!.Message) : NodeTimeout();
            endpoint = vnc!.Message;
        }
        catch (MassTransitException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // No answer in time, or the bus is down: the node cannot be asked now.
            return NodeTimeout();
        }

        var ticket = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.GetUtcNow().UtcDateTime;
        var token = new ConsoleToken
        {
            TokenHash = Hash(ticket),
            InstanceId = instanceId,
            ProjectId = instance.ProjectId,
            Host = host,
            Address = endpoint.Address,
            Port = endpoint.Port,
            CreatedAt = now,
            ExpiresAt = now + options.Value.ConsoleTokenLifetime,
        };
        db.ConsoleTokens.Add(token);
        await db.SaveChangesAsync(http.RequestAborted);
        var scheme = http.Request.IsHttps ? "wss" : "ws";
        var url = $"{scheme}://{http.Request.Host}{http.Request.PathBase}{WebsocketPath}?token={ticket}";
        return TypedResults.Ok(new ConsoleView(instanceId, "novnc", url, token.ExpiresAt));
    }

    /// <summary>Redeems the ticket (once), connects to the VNC server it names and relays bytes both ways until either side ends.</summary>
    private static async Task Proxy(HttpContext http, string? token, ComputeDbContext db, TimeProvider time, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger(typeof(ConsoleApi));
        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.BadRequest("websocket_required", "Websocket required", "Open this URL as a websocket (noVNC does).").ExecuteAsync(http);
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        var hash = token is { Length: > 0 and < 256 } ? Hash(token) : "";
        // Single use across every replica: only one UPDATE can set UsedAt.
        var redeemed = hash.Length > 0 && await db.ConsoleTokens
            .Where(t => t.TokenHash == hash && t.UsedAt == null && t.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), http.RequestAborted) == 1;
        if (!redeemed)
        {
            await Problems.Of(StatusCodes.Status401Unauthorized, "invalid_console_ticket", "Invalid console ticket",
                "The console ticket is unknown, used already or expired; ask for a new console.").ExecuteAsync(http);
            return;
        }
        var ticket = await db.ConsoleTokens.AsNoTracking().SingleAsync(t => t.TokenHash == hash, http.RequestAborted);
        using var vnc = new TcpClient { NoDelay = true };
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            connect.CancelAfter(TimeSpan.FromSeconds(10));
            await vnc.ConnectAsync(ticket.Address, ticket.Port, connect.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            LogUnreachable(log, ticket.InstanceId, ticket.Address, ticket.Port, ex.Message);
            await Problems.Of(StatusCodes.Status502BadGateway, "console_unreachable", "Console unreachable",
                "The instance's VNC server did not accept the connection; it may have stopped. Ask for a new console.").ExecuteAsync(http);
            return;
        }
        // noVNC asks for the "binary" subprotocol; answer with it when offered.
        var subprotocol = http.WebSockets.WebSocketRequestedProtocols.Contains("binary") ? "binary" : null;
        using var socket = await http.WebSockets.AcceptWebSocketAsync(subprotocol);
        LogOpened(log, ticket.InstanceId, ticket.Host);
        await RelayAsync(socket, vnc.GetStream(), http.RequestAborted);
    }

    private static async Task RelayAsync(WebSocket socket, NetworkStream vnc, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toVnc = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (!stop.IsCancellationRequested)
            {
                var received = await socket.ReceiveAsync(buffer, stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                    break;
                await vnc.WriteAsync(buffer.AsMemory(0, received.Count), stop.Token);
            }
        }, stop.Token);
        var fromVnc = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            while (!stop.IsCancellationRequested)
            {
                var read = await vnc.ReadAsync(buffer, stop.Token);
                if (read == 0)
                    break;
                await socket.SendAsync(buffer.AsMemory(0, read), WebSocketMessageType.Binary, endOfMessage: true, stop.Token);
            }
        }, stop.Token);
        try
        {
            await Task.WhenAny(toVnc, fromVnc);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "console closed", CancellationToken.None);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
            {
                // The browser went first.
            }
            await Task.WhenAll(toVnc, fromVnc).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private static string Hash(string ticket) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ticket)));

    private static ProblemHttpResult NoConsole(Instance instance) =>
        Problems.Conflict("console_unavailable", "No console", $"Instance {instance.Id} is {InstanceTransitions.Lower(instance.Status)} and has no host, so it has no console yet.");

    private static ProblemHttpResult Unavailable(ConsoleUnavailable unavailable) => Problems.Conflict(
        unavailable.Code == AgentFailureCodes.ConsoleNotRunning ? "invalid_state" : "console_unavailable", "Console unavailable",
        unavailable.Code switch
        {
            AgentFailureCodes.ConsoleNotRunning => $"Instance {unavailable.InstanceId} is not running, so it has no VNC console.",
            AgentFailureCodes.InstanceNotFound => $"The host has no virtual machine for instance {unavailable.InstanceId}.",
            _ => "The instance's host could not give its console now; try again.",
        });

    private static ProblemHttpResult NodeTimeout() =>
        Problems.Of(StatusCodes.Status504GatewayTimeout, "node_unavailable", "Host did not answer", "The instance's host did not answer in time (or could not be reached over the message bus); try again.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Console of instance {InstanceId} on {Host} opened")]
    private static partial void LogOpened(ILogger logger, Guid instanceId, string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Console of instance {InstanceId}: VNC at {Address}:{Port} unreachable: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, Guid instanceId, string address, int port, string reason);
}
