using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.Quotas;
using CloudPortal.Contracts.Identity;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.ServerGroups;

public sealed record CreateServerGroup(string? Name, string? Policy);

public sealed record ServerGroupView(Guid Id, string Name, string Policy, IReadOnlyList<Guid> Members, DateTime CreatedAt, string Self);

public sealed record ServerGroupPage(IReadOnlyList<ServerGroupView> ServerGroups, string? Next);

/// <summary>Server groups of a project: a placement policy its members share.</summary>
public static class ServerGroupsApi
{
    public static readonly IReadOnlySet<string> Policies = new HashSet<string>
    {
        ServerGroupPolicies.Affinity, ServerGroupPolicies.AntiAffinity, ServerGroupPolicies.SoftAffinity, ServerGroupPolicies.SoftAntiAffinity,
    };

    public static RouteGroupBuilder MapServerGroups(this RouteGroupBuilder api)
    {
        api.MapGet("/server-groups", List).WithSummary("The acting project's server groups").Produces<ServerGroupPage>().ProducesProblems(400, 403);
        api.MapPost("/server-groups", Create).WithSummary("Create a server group: affinity, anti-affinity, soft-affinity or soft-anti-affinity")
            .WithDescription("Launch members with `serverGroupId`; the Scheduler keeps the policy (strict ones also under concurrent launches). Counts against `server_groups`.")
            .Produces<ServerGroupView>(StatusCodes.Status201Created).ProducesProblems(400, 403);
        api.MapGet("/server-groups/{groupId:guid}", Show).WithSummary("One server group with its members").Produces<ServerGroupView>().ProducesProblems(400, 403, 404);
        api.MapDelete("/server-groups/{groupId:guid}", Delete).WithSummary("Delete a server group; its members keep running")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(400, 403, 404);
        return api;
    }

    public static ProblemHttpResult NotFound(Guid id) =>
        Problems.NotFound("server_group_not_found", "Server group not found", $"No server group {id} in your project.");

    public static IQueryable<ServerGroup> InScope(ComputeDbContext db, Scope scope) =>
        scope.Project is { } project ? db.ServerGroups.Where(g => g.ProjectId == project) : db.ServerGroups;

    private static async Task<IResult> List(HttpContext http, ComputeDbContext db, int? limit, Guid? marker)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var page = await InScope(db, scope).AsNoTracking().PageAsync(http.Request, limit, marker, newestFirst: false, http.RequestAborted);
        if (page.Problem is not null)
            return page.Problem;
        var members = await MembersAsync(db, page.Items.Select(g => g.Id).ToList(), http.RequestAborted);
        return TypedResults.Ok(new ServerGroupPage(page.Items.Select(g => View(g, members[g.Id].ToList())).ToList(), page.Next));
    }

    private static async Task<IResult> Show(Guid groupId, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var group = await InScope(db, scope).AsNoTracking().SingleOrDefaultAsync(g => g.Id == groupId, http.RequestAborted);
        if (group is null)
            return NotFound(groupId);
        var members = await MembersAsync(db, [groupId], http.RequestAborted);
        return TypedResults.Ok(View(group, members[groupId].ToList()));
    }

    private static async Task<IResult> Create(CreateServerGroup body, HttpContext http, ComputeDbContext db, ComputeUsageReporter usage, TimeProvider time)
    {
        if (ComputeAccess.Create(http, out var scope) is { } problem)
            return problem;
        var project = scope.Project!.Value;
        var name = body.Name?.Trim() ?? "";
        if (name.Length is 0 or > 255)
            return Problems.BadRequest("invalid_server_group", "Invalid server group", "A server group name is 1-255 characters.");
        if (body.Policy is null || !Policies.Contains(body.Policy))
            return Problems.BadRequest("invalid_server_group_policy", "Invalid policy", $"'policy' is one of {string.Join(", ", Policies)}.");
        var group = new ServerGroup
        {
            Id = Guid.CreateVersion7(),
            ProjectId = project,
            Name = name,
            Policy = body.Policy,
            CreatedBy = scope.Caller.UserId,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        await using (var transaction = await db.Database.BeginTransactionAsync(http.RequestAborted))
        {
            await db.Database.LockAsync(project, http.RequestAborted);
            var limit = await db.LimitAsync(project, QuotaResources.ServerGroups, http.RequestAborted);
            var inUse = await db.ServerGroups.CountAsync(g => g.ProjectId == project, http.RequestAborted);
            if (inUse + 1 > limit)
                return ComputeQuotas.Exceeded(new QuotaShortfall(QuotaResources.ServerGroups, limit, inUse, 1));
            db.ServerGroups.Add(group);
            await db.SaveChangesAsync(http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
        }
        usage.Touch(project);
        var view = View(group, []);
        return TypedResults.Created(view.Self, view);
    }

    private static async Task<IResult> Delete(Guid groupId, HttpContext http, ComputeDbContext db, ComputeUsageReporter usage)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        var group = await InScope(db, scope).AsNoTracking().SingleOrDefaultAsync(g => g.Id == groupId, http.RequestAborted);
        if (group is null)
            return NotFound(groupId);
        await db.ServerGroups.Where(g => g.Id == groupId).ExecuteDeleteAsync(http.RequestAborted);
        usage.Touch(group.ProjectId);
        return TypedResults.NoContent();
    }

    /// <summary>The live members of each group (instances not deleted that name it).</summary>
    public static async Task<ILookup<Guid, Guid>> MembersAsync(ComputeDbContext db, IReadOnlyCollection<Guid> groups, CancellationToken cancellationToken) =>
        (await db.Instances.AsNoTracking()
            .Where(i => i.ServerGroupId != null && groups.Contains(i.ServerGroupId.Value) && i.Status != InstanceStatus.Deleted)
            .OrderBy(i => i.Sequence)
            .Select(i => new { Group = i.ServerGroupId!.Value, i.Id })
            .ToListAsync(cancellationToken))
        .ToLookup(m => m.Group, m => m.Id);

    private static ServerGroupView View(ServerGroup g, IReadOnlyList<Guid> members) =>
        new(g.Id, g.Name, g.Policy, members, g.CreatedAt, $"/compute/v1/server-groups/{g.Id}");
}
