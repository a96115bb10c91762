using System.Text.Json;
using System.Text.RegularExpressions;
using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.Flavors;

public sealed record CreateFlavor(
    string? Name, int? VCpus, int? RamMb, int? DiskGb, int? EphemeralGb, Dictionary<string, string>? ExtraSpecs, bool? IsPublic, string? Description);

public sealed record FlavorView(
    Guid Id, string Name, int VCpus, int RamMb, int DiskGb, int EphemeralGb, IReadOnlyDictionary<string, string> ExtraSpecs,
    bool IsPublic, string? Description, DateTime CreatedAt, string Self)
{
    public static FlavorView Of(Flavor f) =>
        new(f.Id, f.Name, f.VCpus, f.RamMb, f.DiskGb, f.EphemeralGb, f.ExtraSpecs, f.IsPublic, f.Description, f.CreatedAt, $"/compute/v1/flavors/{f.Id}");
}

public sealed record FlavorPage(IReadOnlyList<FlavorView> Flavors, string? Next);

public sealed record FlavorAccessView(Guid FlavorId, Guid ProjectId);

public sealed record FlavorAccessList(IReadOnlyList<FlavorAccessView> Access);

/// <summary>Flavors: everyone lists what their project may use; cloud admins create, delete and grant private ones.</summary>
public static partial class FlavorsApi
{
    public const int MaxVCpus = 1024;
    public const int MaxRamMb = 16 * 1024 * 1024;
    public const int MaxDiskGb = 1024 * 1024;

    public static RouteGroupBuilder MapFlavors(this RouteGroupBuilder api)
    {
        api.MapGet("/flavors", List).WithSummary("Flavors the acting project may use (cloud admins without a project: all)")
            .WithDescription("Public flavors and the private ones granted to the project, in creation order. Filters: `name`, `minRamMb`, `minDiskGb`; paging with `limit` and `marker`.")
            .Produces<FlavorPage>().ProducesProblems(400, 403);
        api.MapPost("/flavors", Create).RequireAuthorization(CloudPolicies.CloudAdmin).WithSummary("Create a flavor (cloud admin)")
            .WithDescription("The name doubles as the EC2 instance type: letters, digits, '.', '-', '_'. `isPublic: false` makes it private: grant projects access with PUT .../access/{projectId}.")
            .Produces<FlavorView>(StatusCodes.Status201Created).ProducesProblems(400, 403, 409);
        api.MapGet("/flavors/{flavor}", Show).WithSummary("One flavor, by id or name").Produces<FlavorView>().ProducesProblems(400, 403, 404);
        api.MapDelete("/flavors/{flavor}", Delete).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Delete a flavor (cloud admin); running instances keep their copy of it").Produces(StatusCodes.Status204NoContent).ProducesProblems(403, 404);
        api.MapGet("/flavors/{flavor}/access", ListAccess).RequireAuthorization(CloudPolicies.CloudAdmin).WithSummary("Projects that may use a private flavor")
            .Produces<FlavorAccessList>().ProducesProblems(403, 404);
        api.MapPut("/flavors/{flavor}/access/{projectId:guid}", GrantAccess).RequireAuthorization(CloudPolicies.CloudAdmin).WithSummary("Let a project use a private flavor")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(403, 404, 409);
        api.MapDelete("/flavors/{flavor}/access/{projectId:guid}", RevokeAccess).RequireAuthorization(CloudPolicies.CloudAdmin).WithSummary("Take a private flavor away from a project")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(403, 404);
        return api;
    }

    public static ProblemHttpResult NotFound(string flavor) =>
        Problems.NotFound("flavor_not_found", "Flavor not found", $"No flavor '{flavor}' that your project may use.");

    /// <summary>Flavors a scope may launch: public ones and the private ones granted to its project (all for cloud admins without a project).</summary>
    public static IQueryable<Flavor> Usable(ComputeDbContext db, Scope scope)
    {
        var flavors = db.Flavors.Where(f => f.DeletedAt == null);
        if (scope.Project is not { } project)
            return flavors;
        return flavors.Where(f => f.IsPublic || db.FlavorAccess.Any(a => a.FlavorId == f.Id && a.ProjectId == project));
    }

    /// <summary>A usable flavor by id or by name (EC2 names instance types, the REST API may use either).</summary>
    public static Task<Flavor?> FindAsync(ComputeDbContext db, Scope scope, string flavor, CancellationToken cancellationToken) =>
        Guid.TryParse(flavor, out var id)
            ? Usable(db, scope).SingleOrDefaultAsync(f => f.Id == id, cancellationToken)
            : Usable(db, scope).SingleOrDefaultAsync(f => f.Name == flavor, cancellationToken);

    private static async Task<IResult> List(HttpContext http, ComputeDbContext db, int? limit, Guid? marker, int? minRamMb, int? minDiskGb, string? name)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var query = Usable(db, scope).AsNoTracking();
        if (minRamMb is not null)
            query = query.Where(f => f.RamMb >= minRamMb);
        if (minDiskGb is not null)
            query = query.Where(f => f.DiskGb >= minDiskGb);
        if (name is not null)
            query = query.Where(f => f.Name == name);
        var page = await query.PageAsync(http.Request, limit, marker, newestFirst: false, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new FlavorPage(page.Items.Select(FlavorView.Of).ToList(), page.Next));
    }

    private static async Task<IResult> Show(string flavor, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var found = await FindAsync(db, scope, flavor, http.RequestAborted);
        return found is null ? NotFound(flavor) : TypedResults.Ok(FlavorView.Of(found));
    }

    private static async Task<IResult> Create(CreateFlavor body, HttpContext http, ComputeDbContext db, TimeProvider time)
    {
        var name = body.Name?.Trim() ?? "";
        if (name.Length is 0 or > 255 || !FlavorName().IsMatch(name) || Guid.TryParse(name, out _))
            return Problems.BadRequest("invalid_flavor_name", "Invalid flavor name",
                "A flavor name is 1-255 letters, digits, '.', '-' or '_', starting with a letter or digit (it doubles as the EC2 instance type), and is not a UUID.");
        if (body.VCpus is not (>= 1 and <= MaxVCpus))
            return Invalid($"'vcpus' is 1-{MaxVCpus}.");
        if (body.RamMb is not (>= 1 and <= MaxRamMb))
            return Invalid($"'ramMb' is 1-{MaxRamMb}.");
        if (body.DiskGb is not (>= 0 and <= MaxDiskGb))
            return Invalid($"'diskGb' is 0-{MaxDiskGb} (0: no root disk of its own size; the image's size is used).");
        if (body.EphemeralGb is < 0 or > MaxDiskGb)
            return Invalid($"'ephemeralGb' is 0-{MaxDiskGb}.");
        if (body.ExtraSpecs is { } specs && (specs.Keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Length > 255) || JsonSerializer.Serialize(specs).Length > 65536))
            return Invalid("Extra spec names are 1-255 characters; all specs together at most 64 KiB of JSON.");
        if (body.Description is { Length: > 1024 })
            return Invalid("'description' is at most 1024 characters.");
        if (await db.Flavors.AnyAsync(f => f.Name == name && f.DeletedAt == null, http.RequestAborted))
            return Problems.Conflict("flavor_exists", "Flavor exists", $"A flavor named '{name}' exists already.");

        var flavor = new Flavor
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            VCpus = body.VCpus.Value,
            RamMb = body.RamMb.Value,
            DiskGb = body.DiskGb.Value,
            EphemeralGb = body.EphemeralGb ?? 0,
            ExtraSpecs = body.ExtraSpecs ?? [],
            IsPublic = body.IsPublic ?? true,
            Description = body.Description,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.Flavors.Add(flavor);
        try
        {
            await db.SaveChangesAsync(http.RequestAborted);
        }
        catch (DbUpdateException)
        {
            // Two admins creating the same name at once: the unique index decides.
            return Problems.Conflict("flavor_exists", "Flavor exists", $"A flavor named '{name}' exists already.");
        }
        return TypedResults.Created(FlavorView.Of(flavor).Self, FlavorView.Of(flavor));
    }

    private static async Task<IResult> Delete(string flavor, HttpContext http, ComputeDbContext db, TimeProvider time)
    {
        var found = await FindAsync(db, new Scope(Caller.From(http), null), flavor, http.RequestAborted);
        if (found is null)
            return NotFound(flavor);
        var now = time.GetUtcNow().UtcDateTime;
        await db.Flavors.Where(f => f.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.DeletedAt, now), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListAccess(string flavor, HttpContext http, ComputeDbContext db)
    {
        var found = await FindAsync(db, new Scope(Caller.From(http), null), flavor, http.RequestAborted);
        if (found is null)
            return NotFound(flavor);
        var access = await db.FlavorAccess.AsNoTracking().Where(a => a.FlavorId == found.Id).OrderBy(a => a.ProjectId).ToListAsync(http.RequestAborted);
        return TypedResults.Ok(new FlavorAccessList(access.Select(a => new FlavorAccessView(a.FlavorId, a.ProjectId)).ToList()));
    }

    private static async Task<IResult> GrantAccess(string flavor, Guid projectId, HttpContext http, ComputeDbContext db)
    {
        var found = await FindAsync(db, new Scope(Caller.From(http), null), flavor, http.RequestAborted);
        if (found is null)
            return NotFound(flavor);
        if (found.IsPublic)
            return Problems.Conflict("flavor_is_public", "Flavor is public", $"Flavor {found.Name} is public: every project may use it already.");
        if (!await db.FlavorAccess.AnyAsync(a => a.FlavorId == found.Id && a.ProjectId == projectId, http.RequestAborted))
        {
            db.FlavorAccess.Add(new FlavorAccess { FlavorId = found.Id, ProjectId = projectId });
            try
            {
                await db.SaveChangesAsync(http.RequestAborted);
            }
            catch (DbUpdateException)
            {
                // Granted by a concurrent request: the same outcome.
            }
        }
        return TypedResults.NoContent();
    }

    private static async Task<IResult> RevokeAccess(string flavor, Guid projectId, HttpContext http, ComputeDbContext db)
    {
        var found = await FindAsync(db, new Scope(Caller.From(http), null), flavor, http.RequestAborted);
        if (found is null)
            return NotFound(flavor);
        var removed = await db.FlavorAccess.Where(a => a.FlavorId == found.Id && a.ProjectId == projectId).ExecuteDeleteAsync(http.RequestAborted);
        return removed == 0
            ? Problems.NotFound("flavor_access_not_found", "No such access", $"Project {projectId} has no access to flavor {found.Name}.")
            : TypedResults.NoContent();
    }

    private static ProblemHttpResult Invalid(string detail) => Problems.BadRequest("invalid_flavor", "Invalid flavor", detail);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex FlavorName();
}
