using System.Text.Json;
using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Audit;
using CloudPortal.Identity.Data;
using CloudPortal.Identity.Projects;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Outbox;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Quotas;

/// <summary>
/// One row of the quota view. Usage comes from the owning module's latest report (<see cref="QuotaUsageReported"/>),
/// counted at <paramref name="UsageCountedAt"/>; null until the owner has reported (or when it is not deployed).
/// </summary>
public sealed record QuotaLine(string Resource, long Limit, long Default, bool Overridden, long? InUse, long? Reserved, DateTimeOffset? UsageCountedAt = null);

public sealed record ProjectQuota(Guid ProjectId, IReadOnlyList<QuotaLine> Resources);

/// <summary>The limit is a JSON element so a malformed value gets its own error code, not a generic binding failure.</summary>
public sealed record SetLimit(JsonElement Limit);

/// <summary>What a quota view leaves for new resources: the portal's launch wizard and the EC2 API ask before a launch.</summary>
public static class QuotaHeadroom
{
    /// <summary>The limit less what is in use and being built; null when the view has no such resource.</summary>
    public static long? Left(ProjectQuota quota, string resource)
    {
        ArgumentNullException.ThrowIfNull(quota);
        var line = quota.Resources.FirstOrDefault(r => r.Resource == resource);
        return line is null ? null : Math.Max(0, line.Limit - (line.InUse ?? 0) - (line.Reserved ?? 0));
    }
}

public static class QuotasApi
{
    /// <summary>Upper bound of a limit: what JSON numbers carry exactly.</summary>
    private const long MaxLimit = 1L << 53;

    public static RouteGroupBuilder MapQuotas(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/quota", Get).RequireAuthorization(CloudPolicies.Reader)
            .WithSummary("Show a project's quota: limit and usage per resource")
            .WithDescription("For every quota resource: the limit, the default, whether it is overridden, and `inUse`/`reserved`/`usageCountedAt` " +
                "as the owning module last reported them (null until it reports).")
            .Produces<ProjectQuota>()
            .ProducesProblems(404);
        api.MapPut("/projects/{projectId:guid}/quota/{resource}", Override).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Override one limit for a project")
            .WithDescription($"`limit`: a whole number from 0 to {MaxLimit}; there is no 'unlimited'. Lowering a limit destroys nothing: it blocks new resources.")
            .Produces<QuotaLine>()
            .ProducesProblems(400, 404);
        api.MapDelete("/projects/{projectId:guid}/quota/{resource}", RemoveOverride).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Remove a project's override: back to the default")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(400, 404);
        api.MapGet("/quota-defaults", Defaults)
            .WithSummary("Show the default limit of every quota resource")
            .Produces<Dictionary<string, long>>();
        api.MapPut("/quota-defaults/{resource}", SetDefault).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Change the default limit of a resource")
            .WithDescription("Applies to every project without an override.")
            .Produces<QuotaLine>()
            .ProducesProblems(400);
        return api;
    }

    private static async Task<IResult> Get(Guid projectId, HttpContext http, IdentityModuleDbContext db)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, http.RequestAborted))
            return ProjectsApi.NotFound(projectId);
        var defaults = await db.QuotaDefaults.AsNoTracking().ToDictionaryAsync(d => d.Resource, d => d.Limit, http.RequestAborted);
        var overrides = await db.QuotaOverrides.AsNoTracking().Where(o => o.ProjectId == projectId).ToDictionaryAsync(o => o.Resource, o => o.Limit, http.RequestAborted);
        var usage = await db.QuotaUsage.AsNoTracking().Where(u => u.ProjectId == projectId).ToDictionaryAsync(u => u.Resource, http.RequestAborted);
        var lines = QuotaResources.Defaults.Keys.Select(resource =>
        {
            var fallback = defaults.GetValueOrDefault(resource, QuotaResources.Defaults[resource]);
            var used = usage.GetValueOrDefault(resource);
            var line = overrides.TryGetValue(resource, out var limit)
                ? new QuotaLine(resource, limit, fallback, true, null, null)
                : new QuotaLine(resource, fallback, fallback, false, null, null);
            return used is null ? line : line with
            {
                InUse = used.InUse,
                Reserved = used.Reserved,
                UsageCountedAt = new DateTimeOffset(DateTime.SpecifyKind(used.CountedAt, DateTimeKind.Utc)),
            };
        }).ToList();
        return TypedResults.Ok(new ProjectQuota(projectId, lines));
    }

    private static async Task<IResult> Override(Guid projectId, string resource, SetLimit body, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time, OutboxSignal signal)
    {
        if (Validate(resource, body) is { } problem)
            return problem;
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, http.RequestAborted))
            return ProjectsApi.NotFound(projectId);
        var limit = body.Limit.GetInt64();
        await using (var transaction = await QuotaLimitLock.BeginAsync(db, http.RequestAborted))
        {
            var row = await db.QuotaOverrides.SingleOrDefaultAsync(o => o.ProjectId == projectId && o.Resource == resource, http.RequestAborted);
            if (row is null)
                db.QuotaOverrides.Add(new QuotaOverride { ProjectId = projectId, Resource = resource, Limit = limit });
            else
                row.Limit = limit;
            // Lowering a limit never destroys anything: owners block new resources only.
            db.Outbox.Publish(new ProjectQuotaChanged(projectId, resource, limit, time.GetUtcNow()));
            audit.Record("quota.changed", success: true, target: resource, projectId: projectId, detail: $"limit={limit}");
            await db.SaveChangesAsync(http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
        }
        // Rows committed in an explicit transaction wait for the relay's next poll; wake it now.
        signal.Pulse();
        return TypedResults.Ok(new QuotaLine(resource, limit, await DefaultOf(db, resource, http.RequestAborted), true, null, null));
    }

    private static async Task<IResult> RemoveOverride(Guid projectId, string resource, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time, OutboxSignal signal)
    {
        if (!QuotaResources.Defaults.ContainsKey(resource))
            return UnknownResource(resource);
        await using (var transaction = await QuotaLimitLock.BeginAsync(db, http.RequestAborted))
        {
            var row = await db.QuotaOverrides.SingleOrDefaultAsync(o => o.ProjectId == projectId && o.Resource == resource, http.RequestAborted);
            if (row is null)
                return Problems.NotFound("quota_override_not_found", "No override", $"Project {projectId} uses the default limit for {resource}.");
            db.QuotaOverrides.Remove(row);
            var fallback = await DefaultOf(db, resource, http.RequestAborted);
            // Not the default as the project's limit: that would pin today's default, and a later change of the
            // default would pass the project by. The flag says "follow the default", whatever it becomes.
            db.Outbox.Publish(new ProjectQuotaChanged(projectId, resource, fallback, time.GetUtcNow(), OverrideRemoved: true));
            audit.Record("quota.reset", success: true, target: resource, projectId: projectId, detail: $"limit={fallback}");
            await db.SaveChangesAsync(http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
        }
        signal.Pulse();
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Defaults(HttpContext http, IdentityModuleDbContext db)
    {
        var defaults = await db.QuotaDefaults.AsNoTracking().ToDictionaryAsync(d => d.Resource, d => d.Limit, http.RequestAborted);
        return TypedResults.Ok(QuotaResources.Defaults.Keys.ToDictionary(r => r, r => defaults.GetValueOrDefault(r, QuotaResources.Defaults[r])));
    }

    private static async Task<IResult> SetDefault(string resource, SetLimit body, HttpContext http, IdentityModuleDbContext db, AuditLog audit, TimeProvider time, OutboxSignal signal)
    {
        if (Validate(resource, body) is { } problem)
            return problem;
        var limit = body.Limit.GetInt64();
        await using (var transaction = await QuotaLimitLock.BeginAsync(db, http.RequestAborted))
        {
            var row = await db.QuotaDefaults.SingleOrDefaultAsync(d => d.Resource == resource, http.RequestAborted);
            if (row is null)
                db.QuotaDefaults.Add(new QuotaDefault { Resource = resource, Limit = limit });
            else
                row.Limit = limit;
            db.Outbox.Publish(new ProjectQuotaChanged(null, resource, limit, time.GetUtcNow()));
            audit.Record("quota.default_changed", success: true, target: resource, detail: $"limit={limit}");
            await db.SaveChangesAsync(http.RequestAborted);
            await transaction.CommitAsync(http.RequestAborted);
        }
        signal.Pulse();
        return TypedResults.Ok(new QuotaLine(resource, limit, limit, false, null, null));
    }

    private static IResult? Validate(string resource, SetLimit body)
    {
        if (!QuotaResources.Defaults.ContainsKey(resource))
            return UnknownResource(resource);
        if (body.Limit.ValueKind != JsonValueKind.Number || !body.Limit.TryGetInt64(out var limit) || limit < 0 || limit > MaxLimit)
            return Problems.BadRequest("invalid_quota_value", "Invalid quota value",
                $"'limit' must be a whole number from 0 to {MaxLimit}; got {(body.Limit.ValueKind == JsonValueKind.Undefined ? "nothing" : body.Limit.GetRawText())}. There is no 'unlimited'.");
        return null;
    }

    private static ProblemHttpResult UnknownResource(string resource) =>
        Problems.BadRequest("unknown_quota_resource", "Unknown quota resource", $"'{resource}' is not a quota resource; known: {string.Join(", ", QuotaResources.Defaults.Keys)}.");

    private static async Task<long> DefaultOf(IdentityModuleDbContext db, string resource, CancellationToken cancellationToken) =>
        await db.QuotaDefaults.Where(d => d.Resource == resource).Select(d => (long?)d.Limit).SingleOrDefaultAsync(cancellationToken)
            ?? QuotaResources.Defaults[resource];
}
