using CloudPortal.Compute.Access;
using CloudPortal.Compute.Conductor;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Quotas;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Instances;

/// <param name="Type">For reboot: <c>soft</c> (the default: ACPI shutdown, then boot) or <c>hard</c> (power cycle).</param>
public sealed record InstanceActionBody(string? Type);

/// <summary>Instances: launch, list, show, power actions, delete, and the action log.</summary>
public static class InstancesApi
{
    public static readonly IReadOnlyDictionary<string, InstanceOperation> Actions = new Dictionary<string, InstanceOperation>
    {
        ["stop"] = InstanceOperation.Stop,
        ["start"] = InstanceOperation.Start,
        ["reboot"] = InstanceOperation.Reboot,
        ["pause"] = InstanceOperation.Pause,
        ["unpause"] = InstanceOperation.Unpause,
        ["suspend"] = InstanceOperation.Suspend,
        ["resume"] = InstanceOperation.Resume,
    };

    public static RouteGroupBuilder MapInstances(this RouteGroupBuilder api)
    {
        api.MapPost("/instances", (LaunchInstancesRequest body, HttpContext http, LaunchInstances launch) => launch.HandleAsync(body, http))
            .WithSummary("Launch one or more instances (202: they build in the background)")
            .WithDescription("Everything is checked before anything is created: the request's fields, the flavor (id or name), the key pair, the " +
                "server group, then the image (asked of Images: active and launchable by the project) and its minimum RAM and disk. Then `instances`, `cores` and " +
                "`ram_mb` are checked and the instances inserted in one transaction: `minCount`..`maxCount` takes what fits, or nothing (403 " +
                "`quota_exceeded` naming the resource, limit, inUse and requested). The same `clientToken` with the same body answers the same " +
                "instances; with another body, 409 `idempotent_parameter_mismatch`. Instances start `building`/`scheduling`.")
            .Produces<LaunchResult>(StatusCodes.Status202Accepted).ProducesProblems(400, 403, 409, 503);
        api.MapGet("/instances", List).WithSummary("The acting project's instances (cloud admins: allProjects=true for every project)")
            .WithDescription("Newest first. Filters: `status` (deleted instances only when asked for, or those deleted after `deletedSince`), `name`, `reservationId`, `imageId`, `flavor` " +
                "(id or name), `tag` (`key` or `key=value`, repeatable), `host` (cloud admins); paging with `limit` and `marker`.")
            .Produces<InstancePage>().ProducesProblems(400, 403);
        api.MapGet("/instances/{instanceId:guid}", Show).WithSummary("One instance: status, task, power state, fault")
            .Produces<InstanceView>().ProducesProblems(400, 403, 404);
        api.MapPost("/instances/{instanceId:guid}/actions/{action}", Act)
            .WithSummary("stop, start, reboot ({type: soft|hard}), pause, unpause, suspend or resume (202)")
            .WithDescription("Allowed only from the states the transition table gives (409 `invalid_state` names the current one); the instance's " +
                "task shows the operation until its host answers.")
            .Produces<InstanceView>(StatusCodes.Status202Accepted).ProducesProblems(400, 403, 404, 409);
        api.MapDelete("/instances/{instanceId:guid}", Delete).WithSummary("Delete an instance (202): its domain and disk go, its claim is given back")
            .Produces<InstanceView>(StatusCodes.Status202Accepted).ProducesProblems(400, 403, 404, 409);
        api.MapGet("/instances/{instanceId:guid}/user-data", UserData).WithSummary("The user data the instance was launched with (base64), or null")
            .Produces<InstanceUserDataView>().ProducesProblems(400, 403, 404);
        api.MapMethods("/instances/{instanceId:guid}/tags", [HttpMethods.Patch], ChangeTags)
            .WithSummary("Add, change or remove tags (a JSON merge patch: a key with null is removed)")
            .WithDescription("At most 50 tags per instance; keys 1-128 characters, not starting with `aws:`; values up to 256 (400 `invalid_tags`).")
            .Produces<InstanceTagsView>().ProducesProblems(400, 403, 404);
        api.MapGet("/instances/{instanceId:guid}/actions", ListActions).WithSummary("The instance's action log: who did what, when, and how it ended")
            .Produces<InstanceActionPage>().ProducesProblems(400, 403, 404);
        api.MapGet("/instance-actions", ListProjectActions).WithSummary("The project's action log across its instances, newest first (what the portal's overview shows)")
            .WithDescription("Every instance's actions, deleted instances' included, each naming its `instanceId`; paging with `limit` and `marker`. " +
                "Cloud admins: `allProjects=true` for every project.")
            .Produces<InstanceActionPage>().ProducesProblems(400, 403);
        return api;
    }

    public static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("instance_not_found", "Instance not found", $"No instance {id} in your project.");

    public static IQueryable<Instance> InScope(ComputeDbContext db, Scope scope) =>
        scope.Project is { } project ? db.Instances.Where(i => i.ProjectId == project) : db.Instances;

    private static async Task<IResult> List(HttpContext http, ComputeDbContext db, int? limit, Guid? marker, string? status, string? name,
        Guid? reservationId, Guid? imageId, string? flavor, string? host, string[]? tag, bool? allProjects, DateTimeOffset? deletedSince)
    {
        if ((ComputeAccess.Read(http, out var scope) ?? ComputeAccess.AllProjects(ref scope, allProjects, "list the instances of every project")) is { } problem)
            return problem;
        var query = InScope(db, scope).AsNoTracking();
        // deletedSince: the EC2 API keeps terminated instances visible for a while, as AWS does.
        var since = deletedSince?.UtcDateTime;
        if (status is null)
            query = since is null ? query.Where(i => i.Status != InstanceStatus.Deleted) : query.Where(i => i.Status != InstanceStatus.Deleted || i.DeletedAt >= since);
        else if (Enum.TryParse<InstanceStatus>(status, ignoreCase: true, out var s) && !int.TryParse(status, out _))
            query = query.Where(i => i.Status == s);
        else
            return Problems.BadRequest("invalid_status", "Invalid status", "'status' is building, active, stopped, paused, suspended, error or deleted.");
        if (name is not null)
            query = query.Where(i => i.Name == name);
        if (reservationId is not null)
            query = query.Where(i => i.ReservationId == reservationId);
        if (imageId is not null)
            query = query.Where(i => i.ImageId == imageId);
        if (flavor is not null)
            query = Guid.TryParse(flavor, out var flavorId) ? query.Where(i => i.FlavorId == flavorId) : query.Where(i => i.FlavorName == flavor);
        if (host is not null)
        {
            if (!scope.Caller.IsCloudAdmin)
                return Problems.Forbidden("host_filter_requires_admin", "Cloud admins only", "Only cloud admins can see or filter by hosts.");
            query = query.Where(i => i.Host == host);
        }
        foreach (var t in tag ?? [])
        {
            var (key, value) = t.Split('=', 2) is [var k, var v] ? (k, (string?)v) : (t, null);
            query = value is null
                ? query.Where(i => db.InstanceTags.Any(x => x.InstanceId == i.Id && x.Key == key))
                : query.Where(i => db.InstanceTags.Any(x => x.InstanceId == i.Id && x.Key == key && x.Value == value));
        }
        var page = await query.PageAsync(http.Request, limit, marker, newestFirst: true, http.RequestAborted);
        if (page.Problem is not null)
            return page.Problem;
        var tags = await TagsAsync(db, page.Items.Select(i => i.Id).ToList(), http.RequestAborted);
        return TypedResults.Ok(new InstancePage(page.Items.Select(i => InstanceView.Of(i, tags(i.Id), scope.Caller.IsCloudAdmin)).ToList(), page.Next));
    }

    private static async Task<IResult> Show(Guid instanceId, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var instance = await InScope(db, scope).AsNoTracking().SingleOrDefaultAsync(i => i.Id == instanceId, http.RequestAborted);
        if (instance is null)
            return NotFound(instanceId);
        var tags = await TagsAsync(db, [instanceId], http.RequestAborted);
        return TypedResults.Ok(InstanceView.Of(instance, tags(instanceId), scope.Caller.IsCloudAdmin));
    }

    private static async Task<IResult> Act(Guid instanceId, string action, [FromBody] InstanceActionBody? body, HttpContext http, ComputeDbContext db, TimeProvider time)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        if (!Actions.TryGetValue(action, out var operation))
            return Problems.BadRequest("unknown_action", "Unknown action", $"'{action}' is not an instance action; use one of {string.Join(", ", Actions.Keys)}.");
        if (body?.Type is { } type)
        {
            if (operation != InstanceOperation.Reboot)
                return Problems.BadRequest("invalid_action", "Invalid action options", "Only reboot takes a 'type'.");
            if (type is not ("soft" or "hard"))
                return Problems.BadRequest("invalid_reboot_type", "Invalid reboot type", "A reboot's 'type' is soft or hard.");
            if (type == "hard")
                operation = InstanceOperation.RebootHard;
        }
        return await ChangeAsync(http, db, scope, instanceId, async instance =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            var rule = InstanceTransitions.Begin(instance, operation, now);
            InstanceLifecycle.Record(db, instance, operation, Requester(http, scope), now);
            Placement.Command(db, instance, rule);
            await InstanceLifecycle.ChangedAsync(db, instance, instance.Status, now, http.RequestAborted);
        });
    }

    private static async Task<IResult> Delete(Guid instanceId, HttpContext http, ComputeDbContext db, ComputeUsageReporter usage, TimeProvider time)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        Guid? project = null;
        var result = await ChangeAsync(http, db, scope, instanceId, async instance =>
        {
            var now = time.GetUtcNow().UtcDateTime;
            var before = instance.Status;
            InstanceTransitions.Ensure(instance, InstanceOperation.Delete);
            var record = InstanceLifecycle.Record(db, instance, InstanceOperation.Delete, Requester(http, scope), now);
            if (instance.Host is null)
            {
                // Never built anywhere (still scheduling, or no valid host): nothing to remove on a node. A claim the
                // Scheduler grants after this is given back when its answer arrives (the instance is deleted by then).
                instance.Status = InstanceStatus.Deleted;
                instance.Task = null;
                instance.TaskStartedAt = null;
                Placement.ReleaseClaim(db, instance.Id);
                record.FinishedAt = now;
                record.Result = "success";
                record.Detail = "deleted before it was placed on a host";
                await InstanceLifecycle.FinishAsync(db, instance.Id, [InstanceOperation.Create], false, "deleted", "The instance was deleted before it was built.", null, now, http.RequestAborted);
            }
            else
            {
                var rule = InstanceTransitions.Begin(instance, InstanceOperation.Delete, now);
                Placement.Command(db, instance, rule);
            }
            project = instance.ProjectId;
            await InstanceLifecycle.ChangedAsync(db, instance, before, now, http.RequestAborted);
        });
        if (project is { } p)
            usage.Touch(p);
        return result;
    }

    private static async Task<IResult> UserData(Guid instanceId, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var found = await InScope(db, scope).Where(i => i.Id == instanceId).Select(i => new { i.UserData }).SingleOrDefaultAsync(http.RequestAborted);
        return found is null ? NotFound(instanceId) : TypedResults.Ok(new InstanceUserDataView(instanceId, found.UserData));
    }

    private static async Task<IResult> ChangeTags(Guid instanceId, Dictionary<string, string?> patch, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        if (!await InScope(db, scope).AnyAsync(i => i.Id == instanceId, http.RequestAborted))
            return NotFound(instanceId);
        if (patch.Any(p => p.Value is not null && !LaunchInstances.ValidTag(p.Key, p.Value)))
            return Problems.BadRequest("invalid_tags", "Invalid tags", LaunchInstances.TagRules);
        var existing = await db.InstanceTags.Where(t => t.InstanceId == instanceId).ToListAsync(http.RequestAborted);
        foreach (var (key, value) in patch)
        {
            var tag = existing.FirstOrDefault(t => t.Key == key);
            if (value is null && tag is not null)
            {
                db.InstanceTags.Remove(tag);
                existing.Remove(tag);
            }
            else if (value is not null && tag is not null)
            {
                tag.Value = value;
            }
            else if (value is not null)
            {
                existing.Add(tag = new InstanceTag { InstanceId = instanceId, Key = key, Value = value });
                db.InstanceTags.Add(tag);
            }
        }
        if (existing.Count > LaunchInstances.MaxTags)
            return Problems.BadRequest("invalid_tags", "Too many tags", LaunchInstances.TagRules);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(new InstanceTagsView(existing.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value)));
    }

    private static async Task<IResult> ListActions(Guid instanceId, HttpContext http, ComputeDbContext db, int? limit, Guid? marker)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        if (!await InScope(db, scope).AnyAsync(i => i.Id == instanceId, http.RequestAborted))
            return NotFound(instanceId);
        var page = await db.InstanceActions.AsNoTracking().Where(a => a.InstanceId == instanceId)
            .PageAsync(http.Request, limit, marker, newestFirst: true, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new InstanceActionPage(page.Items.Select(InstanceActionView.Of).ToList(), page.Next));
    }

    private static async Task<IResult> ListProjectActions(HttpContext http, ComputeDbContext db, int? limit, Guid? marker, bool? allProjects)
    {
        if ((ComputeAccess.Read(http, out var scope) ?? ComputeAccess.AllProjects(ref scope, allProjects, "list the actions of every project")) is { } problem)
            return problem;
        var query = scope.Project is { } project ? db.InstanceActions.Where(a => a.ProjectId == project) : db.InstanceActions;
        var page = await query.AsNoTracking().PageAsync(http.Request, limit, marker, newestFirst: true, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new InstanceActionPage(page.Items.Select(InstanceActionView.Of).ToList(), page.Next));
    }

    /// <summary>
    /// Applies a change to one instance of the scope and answers 202 with its view; a state that does not allow it is 409
    /// <c>invalid_state</c>. A consumer that changed the row at the same moment wins; the change is re-applied to its result.
    /// </summary>
    private static async Task<IResult> ChangeAsync(HttpContext http, ComputeDbContext db, Scope scope, Guid instanceId, Func<Instance, Task> change)
    {
        for (var attempt = 1; ; attempt++)
        {
            var instance = await InScope(db, scope).SingleOrDefaultAsync(i => i.Id == instanceId, http.RequestAborted);
            if (instance is null)
                return NotFound(instanceId);
            try
            {
                await change(instance);
                await db.SaveChangesAsync(http.RequestAborted);
            }
            catch (InvalidStateException ex)
            {
                return Problems.Conflict("invalid_state", "Not possible in this state", ex.Message);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                db.ChangeTracker.Clear();
                continue;
            }
            var tags = await TagsAsync(db, [instanceId], http.RequestAborted);
            return TypedResults.Accepted(InstanceView.Of(instance, tags(instanceId), scope.Caller.IsCloudAdmin).Self,
                InstanceView.Of(instance, tags(instanceId), scope.Caller.IsCloudAdmin));
        }
    }

    private static ActionRequester Requester(HttpContext http, Scope scope) => new(ActionRequester.RequestIdOf(http), scope.Caller.UserId, scope.Caller.Name);

    private static async Task<Func<Guid, IReadOnlyDictionary<string, string>>> TagsAsync(ComputeDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var tags = (await db.InstanceTags.AsNoTracking().Where(t => ids.Contains(t.InstanceId)).ToListAsync(cancellationToken)).ToLookup(t => t.InstanceId);
        return id => tags[id].OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value);
    }
}
