using CloudPortal.Contracts.Identity;
using CloudPortal.Identity.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Identity.Projects;

/// <summary>Answers which projects are disabled (<see cref="GetDisabledProjects"/>), read under <see cref="ProjectStatusLock"/>. Changes nothing.</summary>
public sealed class GetDisabledProjectsConsumer(IdentityModuleDbContext db, TimeProvider time) : IConsumer<GetDisabledProjects>
{
    public async Task Consume(ConsumeContext<GetDisabledProjects> context)
    {
        DisabledProjectsSnapshot snapshot;
        await using (var transaction = await ProjectStatusLock.BeginAsync(db, context.CancellationToken))
        {
            var readAt = time.GetUtcNow();
            var disabled = await db.Projects.AsNoTracking().Where(p => !p.Enabled).Select(p => p.Id).ToListAsync(context.CancellationToken);
            await transaction.CommitAsync(context.CancellationToken);
            snapshot = new DisabledProjectsSnapshot(disabled, readAt);
        }
        await context.RespondAsync(snapshot);
    }
}
