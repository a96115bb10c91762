using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Usage;

public sealed record UsageHours(double InstanceHours, double VCpuHours, double RamMbHours, double DiskGbHours);

public sealed record FlavorUsage(string Flavor, UsageHours Hours);

public sealed record StatusUsage(string Status, UsageHours Hours);

public sealed record ProjectUsage(Guid ProjectId, UsageHours Total, IReadOnlyList<FlavorUsage> ByFlavor, IReadOnlyList<StatusUsage> ByStatus);

public sealed record UsageReport(DateTime From, DateTime To, IReadOnlyList<ProjectUsage> Projects, string? Next);

/// <summary>
/// Instance-hours per project, by flavor and by status (active, stopped, paused, suspended), from the lifecycle's usage
/// segments: what Nova's simple-tenant-usage cannot tell (it ignores stop and pause).
/// </summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsage(this RouteGroupBuilder api)
    {
        api.MapGet("/usage", Get).WithSummary("Instance-hours by flavor and status over [from, to) (cloud admins: allProjects=true for every project)")
            .WithDescription("`from` defaults to the start of this month (UTC), `to` to now. Hours also in vCPU-, RAM (MB)- and disk (GiB)-hours. " +
                "Paging over projects with `limit` and `marker` (a project id).")
            .Produces<UsageReport>().ProducesProblems(400, 403);
        return api;
    }

    private static async Task<IResult> Get(HttpContext http, ComputeDbContext db, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to,
        bool? allProjects, int? limit, Guid? marker)
    {
        if ((ComputeAccess.Read(http, out var scope) ?? ComputeAccess.AllProjects(ref scope, allProjects, "see the usage of every project")) is { } problem)
            return problem;
        if (Paging.PageSize(limit, out var pageSize) is { } limitProblem)
            return limitProblem;
        var now = time.GetUtcNow().UtcDateTime;
        var start = from?.UtcDateTime ?? new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var end = to?.UtcDateTime ?? now;
        if (end <= start)
            return Problems.BadRequest("invalid_period", "Invalid period", "'to' must be after 'from' (ISO 8601 times, e.g. 2026-12-01T00:00:00Z).");

        var segments = db.UsageSegments.AsNoTracking().Where(s => s.StartedAt < end && (s.EndedAt == null || s.EndedAt > start));
        if (scope.Project is { } project)
            segments = segments.Where(s => s.ProjectId == project);
        // Ordered here, not in SQL: SQLite and PostgreSQL order UUIDs differently, and pages must not depend on the provider.
        var projects = (await segments.Select(s => s.ProjectId).Distinct().ToListAsync(http.RequestAborted)).Order().ToList();
        if (marker is not null)
            projects = projects.Where(p => p.CompareTo(marker.Value) > 0).ToList();
        var page = projects.Take(pageSize + 1).ToList();
        var next = Paging.Next(page, pageSize, http.Request, p => p.ToString());
        var rows = await segments.Where(s => page.Contains(s.ProjectId)).ToListAsync(http.RequestAborted);

        var report = page.Select(p =>
        {
            var mine = rows.Where(r => r.ProjectId == p).Select(r => (Segment: r, Hours: Overlap(r, start, end, now))).ToList();
            return new ProjectUsage(p, Sum(mine),
                mine.GroupBy(m => m.Segment.FlavorName).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new FlavorUsage(g.Key, Sum(g))).ToList(),
                mine.GroupBy(m => m.Segment.Status).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new StatusUsage(g.Key, Sum(g))).ToList());
        }).ToList();
        return TypedResults.Ok(new UsageReport(start, end, report, next));
    }

    private static double Overlap(UsageSegment segment, DateTime start, DateTime end, DateTime now)
    {
        var from = segment.StartedAt > start ? segment.StartedAt : start;
        var until = segment.EndedAt ?? now;
        if (until > end)
            until = end;
        return Math.Max(0, (until - from).TotalHours);
    }

    private static UsageHours Sum(IEnumerable<(UsageSegment Segment, double Hours)> parts)
    {
        var list = parts.ToList();
        return new UsageHours(
            Round(list.Sum(p => p.Hours)),
            Round(list.Sum(p => p.Hours * p.Segment.VCpus)),
            Round(list.Sum(p => p.Hours * p.Segment.RamMb)),
            Round(list.Sum(p => p.Hours * p.Segment.DiskGb)));
    }

    private static double Round(double hours) => Math.Round(hours, 6);
}
