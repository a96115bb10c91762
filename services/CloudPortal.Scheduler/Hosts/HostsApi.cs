using CloudPortal.Scheduler.Data;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace CloudPortal.Scheduler.Hosts;

/// <summary>Admin read endpoints: the compute nodes the Scheduler knows (cloud admins, and services such as Compute).</summary>
public static class HostsApi
{
    public static RouteGroupBuilder MapHosts(this RouteGroupBuilder api)
    {
        api.MapGet("/hosts", async (HttpContext http, SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider time) =>
                TypedResults.Ok(await HostList.ListAsync(db, time.GetUtcNow().UtcDateTime, options.Value.NodeDownAfter, http.RequestAborted)))
            .RequireAuthorization(CloudPolicies.CloudAdminOrService);
        return api;
    }
}
