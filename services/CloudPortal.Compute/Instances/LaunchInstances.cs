using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudPortal.Compute.Access;
using CloudPortal.Compute.Conductor;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.KeyPairs;
using CloudPortal.Compute.Quotas;
using CloudPortal.Compute.ServerGroups;
using CloudPortal.Contracts.Compute;
using CloudPortal.Contracts.Images;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Persistence;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudPortal.Compute.Instances;

/// <param name="FlavorId">The flavor's id or its name (EC2's instance type).</param>
/// <param name="UserData">Base64, at most 64 KiB once decoded.</param>
/// <param name="Tags">EC2-style key/value tags (<c>Name</c> among them).</param>
/// <param name="ClientToken">Idempotency: the same token with the same body returns the same instances; with another body, 409.</param>
public sealed record LaunchInstancesRequest(
    string? Name,
    string? FlavorId,
    Guid? ImageId,
    string? KeyName,
    string? UserData,
    Dictionary<string, string>? Metadata,
    Dictionary<string, string>? Tags,
    Guid? ServerGroupId,
    string? AvailabilityZone,
    int? MinCount,
    int? MaxCount,
    string? ClientToken);

/// <summary>
/// <c>POST /compute/v1/instances</c>, the API half of Nova's launch: validate everything before anything is created
/// (flavor, image via Images, key pair, server group, sizes), then, in one transaction under the project's lock, check the
/// quota, insert the instances (building / scheduling) and their <c>SelectHosts</c> in the outbox. The rest is the
/// conductor's (<see cref="Conductor.BuildConsumers"/>).
/// </summary>
public sealed class LaunchInstances(ComputeDbContext db, IRequestClient<GetLaunchImage> images, ComputeUsageReporter usage, IOptions<ComputeOptions> options, TimeProvider time)
{
    public const int MaxUserDataBytes = 64 * 1024;
    public const int MaxMetadataItems = 128;
    public const int MaxTags = 50;

    public const string TagRules = "At most 50 tags; keys 1-128 characters (not starting with 'aws:'), values up to 256.";

    /// <summary>EC2's tag rules: the <c>aws:</c> prefix is reserved.</summary>
    public static bool ValidTag(string key, string? value) =>
        !string.IsNullOrWhiteSpace(key) && key.Length <= 128 && value is { Length: <= 256 } && !key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase);

    private static readonly JsonSerializerOptions CanonicalJson = new(JsonSerializerDefaults.Web);

    public async Task<IResult> HandleAsync(LaunchInstancesRequest body, HttpContext http)
    {
        var cancellationToken = http.RequestAborted;
        if (ComputeAccess.Create(http, out var scope) is { } accessProblem)
            return accessProblem;
        var project = scope.Project!.Value;
        if (Validate(body, options.Value.MaxInstancesPerLaunch) is { } invalid)
            return invalid;
        var min = body.MinCount ?? 1;
        var max = body.MaxCount ?? min;
        // Images is asked at once, over the bus, while this module's own lookups run; its answer is read after them, so
        // a launch with two faults is refused for the same one as before.
        var imageLookup = AskImagesAsync(body.ImageId!.Value, project, cancellationToken);
        var bodyHash = body.ClientToken is null ? null : Hash(body);
        if (body.ClientToken is { } token && await RepeatedAsync(project, token, bodyHash!, scope, cancellationToken) is { } repeated)
            return repeated;

        var flavor = await FlavorsApi.FindAsync(db, scope, body.FlavorId!, cancellationToken);
        if (flavor is null)
            return Problems.BadRequest("flavor_not_found", "Flavor not found", $"No flavor '{body.FlavorId}' that your project may use.");
        KeyPair? key = null;
        if (body.KeyName is { } keyName)
        {
            key = await db.KeyPairs.AsNoTracking().SingleOrDefaultAsync(k => k.ProjectId == project && k.Name == keyName, cancellationToken);
            if (key is null)
                return Problems.BadRequest("key_pair_not_found", "Key pair not found", $"No key pair '{keyName}' in your project.");
        }
        if (body.ServerGroupId is { } groupId && !await db.ServerGroups.AnyAsync(g => g.ProjectId == project && g.Id == groupId, cancellationToken))
            return Problems.BadRequest("server_group_not_found", "Server group not found", $"No server group {groupId} in your project.");

        var imageAnswer = await imageLookup;
        if (imageAnswer.Problem is { } imageProblem)
            return imageProblem;
        var image = imageAnswer.Image!;
        var rootGb = flavor.DiskGb;
        var imageGb = (int)Math.Ceiling((image.VirtualSizeBytes ?? image.Source.SizeBytes ?? 0) / (double)(1L << 30));
        if (flavor.RamMb < image.MinRamMb)
            return Problems.BadRequest("flavor_ram_too_small", "Flavor too small for the image",
                $"Image {image.Name} needs at least {image.MinRamMb} MB of RAM; flavor {flavor.Name} has {flavor.RamMb} MB.");
        if (rootGb == 0)
            rootGb = Math.Max(1, Math.Max(imageGb, image.MinDiskGb));   // Nova: a 0 GB flavor takes the image's size
        if (rootGb < image.MinDiskGb)
            return Problems.BadRequest("flavor_disk_too_small", "Flavor too small for the image",
                $"Image {image.Name} needs a root disk of at least {image.MinDiskGb} GiB; flavor {flavor.Name} has {rootGb} GiB.");
        if (rootGb < imageGb)
            return Problems.BadRequest("flavor_disk_too_small", "Flavor too small for the image",
                $"Image {image.Name} is a {imageGb} GiB disk; flavor {flavor.Name}'s root disk has {rootGb} GiB.");

        var now = time.GetUtcNow().UtcDateTime;
        var reservation = Guid.CreateVersion7();
        var requester = new ActionRequester(ActionRequester.RequestIdOf(http), scope.Caller.UserId, scope.Caller.Name);
        List<Instance> created;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.Database.LockAsync(project, cancellationToken);
            // Under the lock, a concurrent request with the same token has either committed (answer with its instances) or not started.
            if (body.ClientToken is { } lockedToken && await RepeatedAsync(project, lockedToken, bodyHash!, scope, cancellationToken) is { } answered)
                return answered;
            var (admitted, refusal) = await ComputeQuotas.AdmitAsync(db, project, min, max, flavor.VCpus, flavor.RamMb, cancellationToken);
            if (refusal is not null)
                return ComputeQuotas.Exceeded(refusal);

            created = [];
            for (var index = 0; index < admitted; index++)
            {
                var instance = new Instance
                {
                    Id = Guid.CreateVersion7(),
                    ProjectId = project,
                    UserId = scope.Caller.UserId,
                    Name = admitted > 1 ? $"{body.Name!.Trim()}-{index + 1}" : body.Name!.Trim(),
                    ReservationId = reservation,
                    LaunchIndex = index,
                    Status = InstanceStatus.Building,
                    Task = InstanceTask.Scheduling,
                    TaskStartedAt = now,
                    PowerState = PowerState.NoState,
                    FlavorId = flavor.Id,
                    FlavorName = flavor.Name,
                    VCpus = flavor.VCpus,
                    RamMb = flavor.RamMb,
                    DiskGb = rootGb,
                    EphemeralGb = flavor.EphemeralGb,
                    FlavorExtraSpecs = new Dictionary<string, string>(flavor.ExtraSpecs),
                    ImageId = image.ImageId,
                    ImageName = image.Name,
                    ImageSource = image.Source,
                    ImageProperties = new Dictionary<string, string>(image.Properties),
                    KeyName = key?.Name,
                    PublicKey = key?.PublicKey,
                    UserData = body.UserData,
                    Metadata = body.Metadata ?? [],
                    ServerGroupId = body.ServerGroupId,
                    RequestedZone = body.AvailabilityZone,
                    Attempts = 1,
                    CreatedAt = now,
                    UpdatedAt = now,
                };
                db.Instances.Add(instance);
                db.InstanceTags.AddRange((body.Tags ?? []).Select(t => new InstanceTag { InstanceId = instance.Id, Key = t.Key, Value = t.Value }));
                InstanceLifecycle.Record(db, instance, InstanceOperation.Create, requester, now);
                await InstanceLifecycle.ChangedAsync(db, instance, InstanceStatus.Building, now, cancellationToken);
                await Placement.RequestHostAsync(db, instance, cancellationToken);
                created.Add(instance);
            }
            if (body.ClientToken is { } clientToken)
                db.LaunchRequests.Add(new LaunchRequest { ProjectId = project, ClientToken = clientToken, BodyHash = bodyHash!, ReservationId = reservation, CreatedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        usage.Touch(project);
        var tags = body.Tags ?? [];
        return TypedResults.Accepted($"/compute/v1/instances?reservationId={reservation}",
            new LaunchResult(reservation, created.Select(i => InstanceView.Of(i, tags, scope.Caller.IsCloudAdmin)).ToList()));
    }

    /// <summary>The answer to a repeated client token: the same reservation, or 409 when the body differs.</summary>
    private async Task<IResult?> RepeatedAsync(Guid project, string token, string bodyHash, Scope scope, CancellationToken cancellationToken)
    {
        var earlier = await db.LaunchRequests.AsNoTracking().SingleOrDefaultAsync(r => r.ProjectId == project && r.ClientToken == token, cancellationToken);
        if (earlier is null)
            return null;
        if (earlier.BodyHash != bodyHash)
            return Problems.Conflict("idempotent_parameter_mismatch", "Client token reused",
                $"Client token '{token}' was used for a different launch request in this project; use a new token for a new request.");
        var instances = await db.Instances.AsNoTracking().Where(i => i.ReservationId == earlier.ReservationId).OrderBy(i => i.LaunchIndex).ToListAsync(cancellationToken);
        var ids = instances.Select(i => i.Id).ToList();
        var tags = (await db.InstanceTags.AsNoTracking().Where(t => ids.Contains(t.InstanceId)).ToListAsync(cancellationToken)).ToLookup(t => t.InstanceId);
        return TypedResults.Accepted($"/compute/v1/instances?reservationId={earlier.ReservationId}",
            new LaunchResult(earlier.ReservationId, instances.Select(i => InstanceView.Of(i, tags[i.Id].ToDictionary(t => t.Key, t => t.Value), scope.Caller.IsCloudAdmin)).ToList()));
    }

    private async Task<(LaunchImage? Image, ProblemHttpResult? Problem)> AskImagesAsync(Guid imageId, Guid project, CancellationToken cancellationToken)
    {
        // The request's timeout runs from its send, and a send waits while the bus reconnects to a restarting broker:
        // this bound covers both, so the client gets its 503 instead of an open-ended wait.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(options.Value.RequestTimeout);
        try
        {
            // The URL must outlive every attempt of the build (and a download resumed near its end).
            var validFor = options.Value.BuildTimeout + TimeSpan.FromMinutes(5);
            var response = await images.GetResponse<LaunchImage, ImageNotLaunchable>(new GetLaunchImage(imageId, project, validFor), bounded.Token,
                RequestTimeout.After(ms: (int)options.Value.RequestTimeout.TotalMilliseconds));
            if (response.Is(out Response<LaunchImage>? ok))
                return (ok!.Message, null);
            response.Is(out Response<ImageNotLaunchable>? refused);
            return (null, Problems.BadRequest(refused!.Message.Code, "Image cannot be launched", refused.Message.Reason));
        }
        catch (Exception ex) when (ex is MassTransitException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // No answer (timeout), the broker unreachable, or Images failed on it: nothing was created, the client may retry.
            return (null, Problems.Of(StatusCodes.Status503ServiceUnavailable, "images_unavailable", "Images did not answer",
                "The image catalog could not be asked about the image (it did not answer in time, or the message bus is unavailable); nothing was created. Try again."));
        }
    }

    private static ProblemHttpResult? Validate(LaunchInstancesRequest body, int maxPerLaunch)
    {
        var name = body.Name?.Trim() ?? "";
        if (name.Length is 0 or > 255)
            return Bad("invalid_instance_name", "An instance name is 1-255 characters.");
        if (string.IsNullOrWhiteSpace(body.FlavorId))
            return Bad("flavor_required", "Name a flavor: 'flavorId' (its id or name).");
        if (body.ImageId is null || body.ImageId == Guid.Empty)
            return Bad("image_required", "Name an image: 'imageId'.");
        if (body.MinCount is < 1 || body.MaxCount is < 1 || (body.MinCount ?? 1) > (body.MaxCount ?? body.MinCount ?? 1) || (body.MaxCount ?? body.MinCount ?? 1) > maxPerLaunch)
            return Bad("invalid_count", $"1 <= minCount <= maxCount <= {maxPerLaunch}.");
        if (body.UserData is { } userData)
        {
            var bytes = new byte[userData.Length];
            if (!Convert.TryFromBase64String(userData, bytes, out var length))
                return Bad("invalid_user_data", "'userData' must be base64.");
            if (length > MaxUserDataBytes)
                return Bad("invalid_user_data", $"'userData' is at most {MaxUserDataBytes} bytes once decoded; it has {length}.");
        }
        if (body.Metadata is { } metadata
            && (metadata.Count > MaxMetadataItems || metadata.Any(m => string.IsNullOrWhiteSpace(m.Key) || m.Key.Length > 255 || m.Value is null || m.Value.Length > 255)))
            return Bad("invalid_metadata", $"At most {MaxMetadataItems} metadata items; keys 1-255 characters, values up to 255.");
        if (body.Tags is { } tags && (tags.Count > MaxTags || tags.Any(t => !ValidTag(t.Key, t.Value))))
            return Bad("invalid_tags", TagRules);
        if (body.AvailabilityZone is { Length: 0 or > 255 })
            return Bad("invalid_availability_zone", "An availability zone name is 1-255 characters.");
        if (body.ClientToken is { } token && (token.Length is 0 or > 64 || token.Any(c => c is < '!' or > '~')))
            return Bad("invalid_client_token", "A client token is 1-64 printable ASCII characters.");
        return null;
    }

    /// <summary>The body without its token, with keys in a fixed order: two equal requests hash alike.</summary>
    private static string Hash(LaunchInstancesRequest body)
    {
        var canonical = body with
        {
            ClientToken = null,
            Metadata = body.Metadata is null ? null : new Dictionary<string, string>(body.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal)),
            Tags = body.Tags is null ? null : new Dictionary<string, string>(body.Tags.OrderBy(t => t.Key, StringComparer.Ordinal)),
            MinCount = body.MinCount ?? 1,
            MaxCount = body.MaxCount ?? body.MinCount ?? 1,
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(canonical, CanonicalJson))));
    }

    private static ProblemHttpResult Bad(string code, string detail) => Problems.BadRequest(code, "Invalid launch request", detail);
}
