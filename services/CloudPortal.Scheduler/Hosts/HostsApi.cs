using CloudPortal.Scheduler.Aggregates;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Placement;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Hosts;

public sealed record HostPage(IReadOnlyList<HostSummary> Hosts, string? Next);

public sealed record HostDetail(HostSummary Host, IReadOnlyList<AllocationSummary> Allocations);

public sealed record DisableHost(string? Reason);

/// <summary>Only the fields present change.</summary>
public sealed record ChangeHost(
    double? CpuAllocationRatio, double? RamAllocationRatio, double? DiskAllocationRatio,
    int? ReservedVCpus, long? ReservedMemoryMb, long? ReservedDiskGb, string? AvailabilityZone);

public sealed record AggregateView(string Name, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<string> Hosts);

public sealed record AggregatePage(IReadOnlyList<AggregateView> Aggregates, string? Next);

public sealed record CreateAggregate(string? Name, Dictionary<string, string>? Metadata);

/// <summary>
/// The Scheduler's admin surface over HTTP (the same operations as <c>cloudportal admin host-*</c>): hosts with
/// inventories, usage and allocations; enable/disable; ratios, reserved amounts, zones; aggregates. Reading is
/// open to cloud admins and services (Compute), changing to cloud admins only.
/// </summary>
public static class HostsApi
{
    public static RouteGroupBuilder MapHosts(this RouteGroupBuilder api)
    {
        api.MapGet("/hosts", List).RequireAuthorization(CloudPolicies.CloudAdminOrService)
            .WithSummary("List compute hosts")
            .WithDescription("Every host that has reported: up or down, enabled or disabled, zone, hypervisor, inventories with " +
                "allocation ratios and reserved amounts, usage, instance count and last heartbeat. By name; paging with `limit` and " +
                "`marker` (a host name).")
            .Produces<HostPage>().ProducesProblems(400);
        api.MapGet("/hosts/{host}", Get).RequireAuthorization(CloudPolicies.CloudAdminOrService)
            .WithSummary("Show a host with its allocations")
            .Produces<HostDetail>()
            .ProducesProblems(404);
        api.MapPost("/hosts/{host}/disable", (string host, DisableHost body, HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> o, TimeProvider t) =>
            ChangeAsync(host, http, db, o, t, () => HostAdministration.DisableAsync(db, host, body.Reason ?? "", http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Place no new instances on a host")
            .WithDescription("Instances already there keep running. `reason` is shown to admins.")
            .Produces<HostDetail>()
            .ProducesProblems(400, 404);
        api.MapPost("/hosts/{host}/enable", (string host, HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> o, TimeProvider t) =>
            ChangeAsync(host, http, db, o, t, () => HostAdministration.EnableAsync(db, host, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Place new instances on a host again")
            .Produces<HostDetail>()
            .ProducesProblems(400, 404);
        api.MapPatch("/hosts/{host}", Change).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Change a host's allocation ratios, reserved amounts or zone")
            .WithDescription("Only the fields present change. Capacity = (total - reserved) x allocation ratio.")
            .Produces<HostDetail>()
            .ProducesProblems(400, 404);

        api.MapGet("/aggregates", ListAggregates).RequireAuthorization(CloudPolicies.CloudAdminOrService)
            .WithTags("Aggregates")
            .WithSummary("List host aggregates")
            .WithDescription("By name; paging with `limit` and `marker` (an aggregate name).")
            .Produces<AggregatePage>().ProducesProblems(400);
        api.MapGet("/aggregates/{name}", GetAggregate).RequireAuthorization(CloudPolicies.CloudAdminOrService)
            .WithTags("Aggregates")
            .WithSummary("Show a host aggregate")
            .Produces<AggregateView>()
            .ProducesProblems(404);
        api.MapPost("/aggregates", CreateAggregateAsync).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Create a host aggregate")
            .Produces<AggregateView>(StatusCodes.Status201Created)
            .ProducesProblems(400, 409);
        api.MapPut("/aggregates/{name}/metadata", (string name, Dictionary<string, string?> changes, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(name, http, db, () => AggregateAdministration.SetMetadataAsync(db, name, changes, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Set or remove an aggregate's metadata keys")
            .WithDescription("The body maps keys to values; a null value removes the key. Answers the aggregate.")
            .Produces<AggregateView>()
            .ProducesProblems(400, 404, 409);
        api.MapPut("/aggregates/{name}/hosts/{host}", (string name, string host, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(name, http, db, () => AggregateAdministration.AddHostAsync(db, name, host, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Add a host to an aggregate")
            .WithDescription("Answers the aggregate.")
            .Produces<AggregateView>()
            .ProducesProblems(400, 404, 409);
        api.MapDelete("/aggregates/{name}/hosts/{host}", (string name, string host, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(name, http, db, () => AggregateAdministration.RemoveHostAsync(db, name, host, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Remove a host from an aggregate")
            .WithDescription("Answers the aggregate.")
            .Produces<AggregateView>()
            .ProducesProblems(400, 404, 409);
        api.MapDelete("/aggregates/{name}", (string name, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(name, http, db, () => AggregateAdministration.DeleteAsync(db, name, http.RequestAborted), deleted: true))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Delete an aggregate")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 404, 409);
        return api;
    }

    private static async Task<IResult> List(HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time, int? limit, string? marker)
    {
        var page = await db.ComputeNodes.AsNoTracking()
            .PageByAsync(n => n.Host, marker is null ? null : n => n.Host == marker, n => n.Host, http.Request, limit, http.RequestAborted);
        var now = time.GetUtcNow().UtcDateTime;
        return page.Problem ?? (IResult)TypedResults.Ok(new HostPage(page.Items.Select(n => HostList.Summarise(n, now, options.Value.NodeDownAfter)).ToList(), page.Next));
    }

    private static async Task<IResult> Get(string host, HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time)
    {
        var summary = (await HostList.ListAsync(db, time.GetUtcNow().UtcDateTime, options.Value.NodeDownAfter, http.RequestAborted))
            .FirstOrDefault(h => h.Host == host);
        return summary is null
            ? HostNotFound(host)
            : TypedResults.Ok(new HostDetail(summary, await HostList.AllocationsAsync(db, host, http.RequestAborted)));
    }

    private static Task<IResult> Change(string host, ChangeHost body, HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time) =>
        ChangeAsync(host, http, db, options, time, async () =>
        {
            if (body.CpuAllocationRatio is not null || body.RamAllocationRatio is not null || body.DiskAllocationRatio is not null)
                await HostAdministration.SetAllocationRatiosAsync(db, host, body.CpuAllocationRatio, body.RamAllocationRatio, body.DiskAllocationRatio, http.RequestAborted);
            if (body.ReservedVCpus is not null || body.ReservedMemoryMb is not null || body.ReservedDiskGb is not null)
                await HostAdministration.SetReservedAsync(db, host, body.ReservedVCpus, body.ReservedMemoryMb, body.ReservedDiskGb, http.RequestAborted);
            if (body.AvailabilityZone is not null)
                await HostAdministration.MoveToZoneAsync(db, host, body.AvailabilityZone, http.RequestAborted);
        });

    /// <summary>Runs an admin change; the domain's validation messages become problems with stable codes.</summary>
    private static async Task<IResult> ChangeAsync(string host, HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time, Func<Task> change)
    {
        try
        {
            await change();
        }
        catch (HostNotFoundException)
        {
            return HostNotFound(host);
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest("invalid_host_setting", "Invalid host setting", ex.Message);
        }
        http.RequestServices.GetRequiredService<HostStateCache>().Invalidate();
        return await Get(host, http, db, options, time);
    }

    /// <summary>Aggregates are few: paged over the list the Scheduler reads whole anyway.</summary>
    private static async Task<IResult> ListAggregates(HttpContext http, SchedulerDbContext db, int? limit, string? marker)
    {
        var page = Paging.PageOf((await AggregateAdministration.ListAsync(db, http.RequestAborted)).Select(View), a => a.Name, marker, http.Request, limit);
        return page.Problem ?? (IResult)TypedResults.Ok(new AggregatePage(page.Items, page.Next));
    }

    private static async Task<IResult> GetAggregate(string name, HttpContext http, SchedulerDbContext db) =>
        await FindAggregateAsync(db, name, http.RequestAborted) is { } aggregate ? TypedResults.Ok(View(aggregate)) : AggregateNotFound(name);

    private static async Task<Aggregate?> FindAggregateAsync(SchedulerDbContext db, string name, CancellationToken cancellationToken) =>
        await db.Aggregates.AsNoTracking().Include(a => a.Hosts).SingleOrDefaultAsync(a => a.Name == name, cancellationToken);

    private static async Task<IResult> CreateAggregateAsync(CreateAggregate body, HttpContext http, SchedulerDbContext db, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(body.Name))
            return Problems.BadRequest("invalid_aggregate", "Invalid aggregate", "An aggregate needs a name.");
        var name = body.Name.Trim();
        return await AggregateChangeAsync(name, http, db, async () =>
        {
            await AggregateAdministration.CreateAsync(db, name, body.Metadata, time.GetUtcNow().UtcDateTime, http.RequestAborted);
        }, created: true);
    }

    /// <summary>Runs a change to aggregate <paramref name="name"/> and answers it as it is now (nothing once deleted).</summary>
    private static async Task<IResult> AggregateChangeAsync(string name, HttpContext http, SchedulerDbContext db, Func<Task> change, bool created = false, bool deleted = false)
    {
        try
        {
            await change();
        }
        catch (HostNotFoundException ex)
        {
            return HostNotFound(ex.Host);
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("no aggregate", StringComparison.Ordinal))
        {
            return AggregateNotFound(name, ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return Problems.Conflict("aggregate_conflict", "Aggregate conflict", ex.Message);
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest("invalid_aggregate", "Invalid aggregate", ex.Message);
        }
        http.RequestServices.GetRequiredService<HostStateCache>().Invalidate();
        if (deleted)
            return TypedResults.NoContent();
        if (await FindAggregateAsync(db, name, http.RequestAborted) is not { } aggregate)
            return AggregateNotFound(name);
        return created ? TypedResults.Created($"/scheduler/v1/aggregates/{Uri.EscapeDataString(name)}", View(aggregate)) : TypedResults.Ok(View(aggregate));
    }

    private static AggregateView View(Aggregate a) => new(a.Name, a.Metadata, a.Hosts.Select(h => h.Host).Order().ToList());

    private static IResult AggregateNotFound(string name, string? detail = null) =>
        Problems.NotFound("aggregate_not_found", "Aggregate not found", detail ?? $"No host aggregate named '{name}'.");

    private static IResult HostNotFound(string host) =>
        Problems.NotFound("host_not_found", "Host not found", $"No compute host named '{host}' has reported to the scheduler.");
}
