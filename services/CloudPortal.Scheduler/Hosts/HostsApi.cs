using CloudPortal.Scheduler.Aggregates;
using CloudPortal.Scheduler.Data;
using CloudPortal.Scheduler.Placement;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Hosts;

public sealed record HostDetail(HostSummary Host, IReadOnlyList<AllocationSummary> Allocations);

public sealed record DisableHost(string? Reason);

/// <summary>Only the fields present change.</summary>
public sealed record ChangeHost(
    double? CpuAllocationRatio, double? RamAllocationRatio, double? DiskAllocationRatio,
    int? ReservedVCpus, long? ReservedMemoryMb, long? ReservedDiskGb, string? AvailabilityZone);

public sealed record AggregateView(string Name, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<string> Hosts);

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
                "allocation ratios and reserved amounts, usage, instance count and last heartbeat.")
            .Produces<IReadOnlyList<HostSummary>>();
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
            .Produces<IEnumerable<AggregateView>>();
        api.MapPost("/aggregates", CreateAggregateAsync).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Create a host aggregate")
            .WithDescription("Answers every aggregate, the new one included.")
            .Produces<IReadOnlyList<AggregateView>>(StatusCodes.Status201Created)
            .ProducesProblems(400, 409);
        api.MapPut("/aggregates/{name}/metadata", (string name, Dictionary<string, string?> changes, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(http, db, () => AggregateAdministration.SetMetadataAsync(db, name, changes, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Set or remove an aggregate's metadata keys")
            .WithDescription("The body maps keys to values; a null value removes the key. Answers every aggregate.")
            .Produces<IReadOnlyList<AggregateView>>()
            .ProducesProblems(400, 404, 409);
        api.MapPut("/aggregates/{name}/hosts/{host}", (string name, string host, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(http, db, () => AggregateAdministration.AddHostAsync(db, name, host, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Add a host to an aggregate")
            .Produces<IReadOnlyList<AggregateView>>()
            .ProducesProblems(400, 404, 409);
        api.MapDelete("/aggregates/{name}/hosts/{host}", (string name, string host, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(http, db, () => AggregateAdministration.RemoveHostAsync(db, name, host, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Remove a host from an aggregate")
            .Produces<IReadOnlyList<AggregateView>>()
            .ProducesProblems(400, 404, 409);
        api.MapDelete("/aggregates/{name}", (string name, HttpContext http, SchedulerDbContext db) =>
            AggregateChangeAsync(http, db, () => AggregateAdministration.DeleteAsync(db, name, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithTags("Aggregates")
            .WithSummary("Delete an aggregate")
            .Produces<IReadOnlyList<AggregateView>>()
            .ProducesProblems(400, 404, 409);
        return api;
    }

    private static async Task<IResult> List(HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time) =>
        TypedResults.Ok(await HostList.ListAsync(db, time.GetUtcNow().UtcDateTime, options.Value.NodeDownAfter, http.RequestAborted));

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

    private static async Task<IResult> ListAggregates(HttpContext http, SchedulerDbContext db) =>
        TypedResults.Ok((await AggregateAdministration.ListAsync(db, http.RequestAborted)).Select(View));

    private static async Task<IResult> CreateAggregateAsync(CreateAggregate body, HttpContext http, SchedulerDbContext db, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(body.Name))
            return Problems.BadRequest("invalid_aggregate", "Invalid aggregate", "An aggregate needs a name.");
        return await AggregateChangeAsync(http, db, async () =>
        {
            await AggregateAdministration.CreateAsync(db, body.Name.Trim(), body.Metadata, time.GetUtcNow().UtcDateTime, http.RequestAborted);
        }, created: true);
    }

    private static async Task<IResult> AggregateChangeAsync(HttpContext http, SchedulerDbContext db, Func<Task> change, bool created = false)
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
            return Problems.NotFound("aggregate_not_found", "Aggregate not found", ex.Message);
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
        var all = (await AggregateAdministration.ListAsync(db, http.RequestAborted)).Select(View).ToList();
        return created ? TypedResults.Created("/scheduler/v1/aggregates", all) : TypedResults.Ok(all);
    }

    private static AggregateView View(Aggregate a) => new(a.Name, a.Metadata, a.Hosts.Select(h => h.Host).Order().ToList());

    private static IResult HostNotFound(string host) =>
        Problems.NotFound("host_not_found", "Host not found", $"No compute host named '{host}' has reported to the scheduler.");
}
