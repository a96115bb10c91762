using CloudPortal.Compute.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Flavors;

/// <summary>
/// OpenStack's classic flavors, created on a cloud's first start (when no flavor exists at all), so a new cloud can
/// launch at once. They have fixed ids, so replicas starting together insert them once; an admin may delete them.
/// </summary>
public sealed partial class DefaultFlavors(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider time, ILogger<DefaultFlavors> log) : IHostedService
{
    public static IReadOnlyList<Flavor> All { get; } =
    [
        Default("00000000-0000-7000-8000-000000000001", "m1.tiny", 1, 512, 1),
        Default("00000000-0000-7000-8000-000000000002", "m1.small", 1, 2048, 20),
        Default("00000000-0000-7000-8000-000000000003", "m1.medium", 2, 4096, 40),
        Default("00000000-0000-7000-8000-000000000004", "m1.large", 4, 8192, 80),
        Default("00000000-0000-7000-8000-000000000005", "m1.xlarge", 8, 16384, 160),
    ];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDefaultFlavors)
            return;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        if (await db.Flavors.IgnoreQueryFilters().AnyAsync(cancellationToken))
            return;
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var flavor in All)
        {
            db.Flavors.Add(new Flavor
            {
                Id = flavor.Id, Name = flavor.Name, VCpus = flavor.VCpus, RamMb = flavor.RamMb, DiskGb = flavor.DiskGb,
                IsPublic = true, Description = flavor.Description, CreatedAt = now,
            });
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogSeeded(log, All.Count);
        }
        catch (DbUpdateException)
        {
            // Another replica seeded them in the same moment.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Flavor Default(string id, string name, int vcpus, int ramMb, int diskGb) => new()
    {
        Id = Guid.Parse(id), Name = name, VCpus = vcpus, RamMb = ramMb, DiskGb = diskGb, Description = "default flavor",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the {Count} default flavors (m1.tiny ... m1.xlarge)")]
    private static partial void LogSeeded(ILogger logger, int count);
}
