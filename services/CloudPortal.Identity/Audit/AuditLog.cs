using CloudPortal.Identity.Data;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Http;

namespace CloudPortal.Identity.Audit;

/// <summary>Adds audit events to the current unit of work, so they commit (or not) with the change they describe.</summary>
public sealed class AuditLog(IdentityModuleDbContext db, IHttpContextAccessor http, TimeProvider time)
{
    public void Record(string action, bool success, string? target = null, Guid? projectId = null, string? detail = null,
        Guid? actorId = null, string? actorName = null)
    {
        var context = http.HttpContext;
        var caller = context is null ? null : Caller.From(context);
        db.AuditEvents.Add(new AuditEvent
        {
            At = time.GetUtcNow().UtcDateTime,
            Action = action,
            Success = success,
            ActorId = actorId ?? caller?.UserId,
            ActorName = actorName ?? (caller?.IsAuthenticated == true ? caller.Name : null),
            ProjectId = projectId,
            Target = target,
            Detail = detail,
            RemoteAddress = context?.Connection.RemoteIpAddress?.ToString(),
        });
    }
}
