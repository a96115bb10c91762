using CloudPortal.Ec2Api.Cloud;
using CloudPortal.Ec2Api.Protocol;
using CloudPortal.Images.Catalog;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>
/// DescribeImages and DeregisterImage over the image catalog. Images' tags are plain strings (Glance's); EC2's
/// key/value tags are kept in them as <c>key=value</c> (a plain tag reads as a key with an empty value).
/// </summary>
public static class Images
{
    public static IEnumerable<Ec2Action> All =>
    [
        new("DescribeImages", false, DescribeAsync),
        new("DeregisterImage", true, DeregisterAsync),
    ];

    private static readonly HashSet<string> KnownFilters =
    [
        "image-id", "name", "state", "owner-id", "is-public", "image-type", "architecture", "root-device-type", "virtualization-type",
        "hypervisor", "description",
    ];

    public static async Task<List<ImageView>> VisibleAsync(Ec2Context context) =>
        await context.Api.AllAsync<ImagePage, ImageView>("images", "images/v2/images?limit=1000", p => (p.Images, p.Next), context.CancellationToken);

    public static async Task<List<ImageView>> ResolveAsync(Ec2Context context, IReadOnlyList<string> ids)
    {
        foreach (var id in ids)
            if (!Ec2Ids.IsWellFormed(Ec2Ids.Image, id))
                throw Ec2Errors.Malformed("InvalidAMIID.Malformed", id);
        var byId = (await VisibleAsync(context)).ToDictionary(i => Ec2Ids.Of(Ec2Ids.Image, i.Id), StringComparer.Ordinal);
        var missing = ids.Where(id => !byId.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
            throw Ec2Errors.ImagesNotFound(missing);
        return ids.Distinct().Select(id => byId[id]).ToList();
    }

    public static async Task<ImageView> ResolveOneAsync(Ec2Context context, string id) => (await ResolveAsync(context, [id]))[0];

    public static IReadOnlyDictionary<string, string> TagsOf(ImageView image) => image.Tags
        .Select(t => t.Split('=', 2))
        .GroupBy(t => t[0], StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last() is [_, var value] ? value : "", StringComparer.Ordinal);

    public static string State(ImageView image) => image.Status switch
    {
        "active" => "available",
        "queued" or "saving" or "importing" or "uploading" => "pending",
        "deactivated" => "disabled",
        "deleted" or "pending_delete" => "deregistered",
        _ => "failed",
    };

    private static async Task<IEnumerable<object?>> DescribeAsync(Ec2Context context)
    {
        var p = context.Parameters;
        var ids = p.List("ImageId");
        var images = ids.Count > 0 ? await ResolveAsync(context, ids) : await VisibleAsync(context);
        var account = context.Caller.Account;
        // Owner: self, amazon (the cloud's public images) or account ids; ExecutableBy: self, all or account ids.
        if (p.List("Owner") is { Count: > 0 } owners)
            images = images.Where(i => owners.Any(o => o switch
            {
                "self" => i.Owner == context.Caller.ProjectId,
                "amazon" or "aws-marketplace" => i.Visibility == "public",
                _ => Ec2Ids.Account(i.Owner) == o,
            })).ToList();
        if (p.List("ExecutableBy") is { Count: > 0 } executors)
            images = images.Where(i => executors.Any(e => e switch
            {
                "all" => i.Visibility is "public" or "community",
                "self" => true,
                _ => e == account,
            })).ToList();
        var filtered = Ec2Filters.Apply(images, p.Filters(), KnownFilters, (i, name) => name switch
        {
            "image-id" => [Ec2Ids.Of(Ec2Ids.Image, i.Id)],
            "name" => [i.Name],
            "state" => [State(i)],
            "owner-id" => [Ec2Ids.Account(i.Owner)],
            "is-public" => [i.Visibility == "public" ? "true" : "false"],
            "image-type" => ["machine"],
            "architecture" => [Architecture(i)],
            "root-device-type" => ["instance-store"],
            "virtualization-type" => ["hvm"],
            "hypervisor" => ["xen"],
            "description" => [i.Properties.GetValueOrDefault("description")],
            _ => [],
        }, TagsOf);
        var (page, next) = Ec2Paging.Page(filtered, i => $"{i.CreatedAt.Ticks:D19}/{i.Id}", p, 5, 1000);
        return
        [
            Set("imagesSet", page.Select(i => new object?[]
            {
                X("imageId", Ec2Ids.Of(Ec2Ids.Image, i.Id)),
                X("imageLocation", $"{Ec2Ids.Account(i.Owner)}/{i.Name}"),
                X("imageState", State(i)),
                X("imageOwnerId", Ec2Ids.Account(i.Owner)),
                X("creationDate", i.CreatedAt),
                X("isPublic", i.Visibility == "public"),
                X("architecture", Architecture(i)),
                X("imageType", "machine"),
                X("name", i.Name),
                Opt("description", i.Properties.GetValueOrDefault("description")),
                X("rootDeviceType", "instance-store"),
                X("rootDeviceName", "/dev/vda"),
                X("blockDeviceMapping"),
                X("virtualizationType", "hvm"),
                X("hypervisor", "xen"),
                X("platformDetails", "Linux/UNIX"),
                X("usageOperation", "RunInstances"),
                i.Failure is { } failure ? X("stateReason", X("code", failure.Code), X("message", failure.Reason)) : null,
                TagSet(TagsOf(i)),
            })),
            Opt("nextToken", next),
        ];
    }

    private static string Architecture(ImageView image) =>
        image.Properties.GetValueOrDefault("architecture") ?? image.Properties.GetValueOrDefault("hw_architecture") ?? "x86_64";

    private static async Task<IEnumerable<object?>> DeregisterAsync(Ec2Context context)
    {
        var id = context.Parameters.Required("ImageId");
        var image = await ResolveOneAsync(context, id);
        if (image.Owner != context.Caller.ProjectId)
            throw Ec2Exception.Unauthorized();
        if (image.Protected)
            throw new Ec2Exception("OperationNotPermitted", $"The image '{id}' is protected; unprotect it in the portal or the Images API first.");
        context.ThrowIfDryRun();
        try
        {
            await context.Api.SendAsync(HttpMethod.Delete, "images", $"images/v2/images/{image.Id}", null, context.CancellationToken);
        }
        catch (ModuleProblemException problem) when (problem.Status == 404)
        {
            throw Ec2Errors.ImagesNotFound([id]);
        }
        return [X("return", true)];
    }
}
