using CloudPortal.Ec2Api.Cloud;
using CloudPortal.Ec2Api.Protocol;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>CreateTags, DeleteTags and DescribeTags over every taggable resource that exists today: instances and images.</summary>
public static class Tags
{
    public static IEnumerable<Ec2Action> All =>
    [
        new("CreateTags", true, c => ChangeAsync(c, create: true)),
        new("DeleteTags", true, c => ChangeAsync(c, create: false)),
        new("DescribeTags", false, DescribeAsync),
    ];

    private static readonly HashSet<string> KnownFilters = ["resource-id", "resource-type", "key", "value"];

    /// <summary>AWS's rules: at most 50 per resource, keys 1-128 characters not starting with <c>aws:</c>, values up to 256.</summary>
    public static void Validate(IEnumerable<(string Key, string? Value)> tags)
    {
        foreach (var (key, value) in tags)
        {
            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
                throw Ec2Exception.Invalid("Tag keys starting with 'aws:' are reserved for internal use");
            if (key.Length is 0 or > 128)
                throw Ec2Exception.Invalid($"Tag key '{Ec2Parameters.Clip(key)}' is invalid: 1-128 characters.");
            if (value is { Length: > 256 })
                throw Ec2Exception.Invalid($"Tag value for '{Ec2Parameters.Clip(key)}' is too long: at most 256 characters.");
        }
    }

    private static async Task<IEnumerable<object?>> ChangeAsync(Ec2Context context, bool create)
    {
        var resources = context.Parameters.List("ResourceId");
        if (resources.Count == 0)
            throw Ec2Exception.Missing("ResourceId");
        var tags = context.Parameters.Tags();
        if (create && tags.Count == 0)
            throw Ec2Exception.Missing("Tag");
        Validate(tags);
        foreach (var id in resources.Where(id => !id.StartsWith("i-", StringComparison.Ordinal) && !id.StartsWith("ami-", StringComparison.Ordinal)))
            throw new Ec2Exception("InvalidID", $"The ID '{Ec2Parameters.Clip(id)}' is not valid");
        var instances = await Instances.ResolveAsync(context, resources.Where(id => id.StartsWith("i-", StringComparison.Ordinal)).ToList());
        var images = resources.Any(id => id.StartsWith("ami-", StringComparison.Ordinal))
            ? await Images.ResolveAsync(context, resources.Where(id => id.StartsWith("ami-", StringComparison.Ordinal)).ToList())
            : [];
        if (images.Any(i => i.Owner != context.Caller.ProjectId))
            throw Ec2Exception.Unauthorized();   // another project's public or shared image: visible, not ours to tag
        context.ThrowIfDryRun();

        foreach (var instance in instances)
        {
            // DeleteTags: no tags means all; a tag with a value removes it only while it has that value.
            var patch = create
                ? tags.ToDictionary(t => t.Key, t => (string?)(t.Value ?? ""), StringComparer.Ordinal)
                : instance.Tags.Where(t => tags.Count == 0 || tags.Any(d => d.Key == t.Key && (d.Value is null || d.Value == t.Value)))
                    .ToDictionary(t => t.Key, _ => (string?)null, StringComparer.Ordinal);
            if (patch.Count == 0)
                continue;
            try
            {
                await context.Api.SendAsync(HttpMethod.Patch, "compute", $"compute/v1/instances/{instance.Id}/tags", patch, context.CancellationToken);
            }
            catch (ModuleProblemException problem) when (problem.Code == "invalid_tags")
            {
                throw new Ec2Exception("TagLimitExceeded", problem.Message);
            }
        }
        foreach (var image in images)
        {
            var current = Images.TagsOf(image);
            foreach (var (key, value) in tags.Count == 0 && !create ? current.Select(t => (t.Key, (string?)t.Value)) : tags)
            {
                if (create)
                {
                    if (current.TryGetValue(key, out var old))
                        await ImageTagAsync(context, HttpMethod.Delete, image.Id, key, old);
                    await ImageTagAsync(context, HttpMethod.Put, image.Id, key, value ?? "");
                }
                else if (current.TryGetValue(key, out var old) && (value is null || value == old))
                {
                    await ImageTagAsync(context, HttpMethod.Delete, image.Id, key, old);
                }
            }
        }
        return [X("return", true)];
    }

    private static Task ImageTagAsync(Ec2Context context, HttpMethod method, Guid image, string key, string value) =>
        context.Api.SendAsync(method, "images", $"images/v2/images/{image}/tags/{Uri.EscapeDataString(value.Length == 0 ? key : $"{key}={value}")}", null,
            context.CancellationToken);

    private static async Task<IEnumerable<object?>> DescribeAsync(Ec2Context context)
    {
        var instances = await Instances.VisibleAsync(context);
        var images = (await Images.VisibleAsync(context)).Where(i => i.Owner == context.Caller.ProjectId);
        var rows = instances.SelectMany(i => i.Tags.Select(t => (Id: Ec2Ids.Of(Ec2Ids.Instance, i.Id), Type: "instance", t.Key, t.Value)))
            .Concat(images.SelectMany(i => Images.TagsOf(i).Select(t => (Id: Ec2Ids.Of(Ec2Ids.Image, i.Id), Type: "image", t.Key, t.Value))))
            .ToList();
        var filtered = Ec2Filters.Apply(rows, context.Parameters.Filters(), KnownFilters, (r, name) => name switch
        {
            "resource-id" => [r.Id],
            "resource-type" => [r.Type],
            "key" => [r.Key],
            "value" => [r.Value],
            _ => [],
        }, r => new Dictionary<string, string> { [r.Key] = r.Value });
        var (page, next) = Ec2Paging.Page(filtered, r => $"{r.Id}/{r.Key}", context.Parameters, 5, 1000);
        return
        [
            Set("tagSet", page.Select(r => new object?[] { X("resourceId", r.Id), X("resourceType", r.Type), X("key", r.Key), X("value", r.Value) })),
            Opt("nextToken", next),
        ];
    }
}
