using CloudPortal.Images.Data;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace CloudPortal.Images.Quotas;

public sealed record ProjectImageUsage(Guid ProjectId, IReadOnlyList<QuotaUsage> Resources);

/// <summary>The Images module's part of the quota view: images and image bytes in use, with the limits it enforces.</summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsage(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{projectId:guid}/usage", Get).RequireAuthorization(CloudPolicies.Reader)
            .WithSummary("Show a project's image usage against its limits")
            .WithDescription("`images` and `image_bytes` in use, with the limits the Images module enforces (Identity's quota view gathers these).")
            .Produces<ProjectImageUsage>();
        return api;
    }

    private static async Task<IResult> Get(Guid projectId, HttpContext http, ImagesDbContext db) =>
        TypedResults.Ok(new ProjectImageUsage(projectId, await ImageQuotas.UsageAsync(db, projectId, http.RequestAborted)));
}
