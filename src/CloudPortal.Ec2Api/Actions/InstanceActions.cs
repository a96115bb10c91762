using System.Text;
using CloudPortal.Compute.Consoles;
using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.Instances;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.Ec2Api.Cloud;
using CloudPortal.Ec2Api.Protocol;
using CloudPortal.Identity.Quotas;
using CloudPortal.Images.Catalog;
using MassTransit;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>RunInstances, DescribeInstances(Status), Start/Stop/Reboot/Terminate, GetConsoleOutput, DescribeInstanceAttribute.</summary>
public static class InstanceActions
{
    public static IEnumerable<Ec2Action> All =>
    [
        new("RunInstances", true, RunAsync),
        new("DescribeInstances", false, DescribeAsync),
        new("DescribeInstanceStatus", false, DescribeStatusAsync),
        new("StartInstances", true, c => ChangeAsync(c, "start")),
        new("StopInstances", true, c => ChangeAsync(c, "stop")),
        new("RebootInstances", true, c => ChangeAsync(c, "reboot")),
        new("TerminateInstances", true, TerminateAsync),
        new("GetConsoleOutput", false, ConsoleOutputAsync),
        new("DescribeInstanceAttribute", false, AttributeAsync),
    ];

    private static readonly string[] NotYet = ["SubnetId", "SecurityGroupId.1", "SecurityGroup.1", "NetworkInterface.1.DeviceIndex", "BlockDeviceMapping.1.DeviceName", "PrivateIpAddress"];

    private static async Task<IEnumerable<object?>> RunAsync(Ec2Context context)
    {
        var p = context.Parameters;
        var imageId = p.Required("ImageId");
        var min = p.Number("MinCount", 1, 1000) ?? throw Ec2Exception.Missing("MinCount");
        var max = p.Number("MaxCount", 1, 1000) ?? throw Ec2Exception.Missing("MaxCount");
        if (max < min)
            throw Ec2Exception.Invalid($"MaxCount ({max}) must be at least MinCount ({min}).");
        if (NotYet.FirstOrDefault(n => p.Value(n) is not null) is { } unsupported)
            throw new Ec2Exception("UnsupportedOperation",
                $"'{unsupported.Split('.')[0]}' is not supported yet: subnets, security groups, network interfaces and volumes arrive with CloudPortal's network and block storage services.");
        var instanceType = p.Value("InstanceType") ?? "m1.small";
        var keyName = p.Value("KeyName");
        var zone = p.Value("Placement.AvailabilityZone");
        var clientToken = p.Value("ClientToken");
        if (clientToken is { Length: > 64 } || (clientToken is not null && !Ascii.IsValid(clientToken)))
            throw Ec2Exception.Invalid("ClientToken is at most 64 ASCII characters.");
        var userData = p.Value("UserData");
        if (userData is not null && !IsBase64(userData))
            throw Ec2Exception.Invalid("Invalid BASE64 encoding of user data.");
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in p.Structures("TagSpecification"))
        {
            if (spec.Value("ResourceType") is not "instance")
                throw Ec2Exception.Invalid($"'{Ec2Parameters.Clip(spec.Value("ResourceType") ?? "")}' is not a valid taggable resource type for this operation; this cloud tags instances at launch.");
            foreach (var (key, value) in spec.Tags())
                tags[key] = value ?? "";
        }
        Tags.Validate(tags.Select(t => (t.Key, (string?)t.Value)));

        // The lookups a launch needs do not depend on each other: asked at once, they cost the slowest of them. The
        // Scheduler's fit check needs only the flavor, so it is asked as soon as the flavor is known.
        var imageLookup = ImageAsync(context, imageId);
        var flavorLookup = FlavorAsync(context, instanceType);
        var fitLookup = context.DryRun ? null : FitAsync(context, flavorLookup, zone);
        await Task.WhenAll(new Task?[] { imageLookup, flavorLookup, fitLookup }.OfType<Task>().Select(Settle));
        var image = await imageLookup;
        var flavor = await flavorLookup ?? throw Ec2Exception.Invalid($"Invalid value '{Ec2Parameters.Clip(instanceType)}' for InstanceType.");
        if (context.DryRun)
        {
            if (image.Status != "active")
                throw new Ec2Exception("InvalidAMIID.Unavailable", $"The image '{imageId}' is not available ({image.Status}).");
            if (keyName is not null && await context.Api.FindAsync<Compute.KeyPairs.KeyPairView>("compute", $"compute/v1/key-pairs/{Uri.EscapeDataString(keyName)}", context.CancellationToken) is null)
                throw Ec2Errors.KeyPairNotFound(keyName);
            context.ThrowIfDryRun();
        }
        if (fitLookup is not null && await fitLookup is { } fit && !Fits(fit, min))
        {
            // On the way to a refusal only (a launch that fits goes to Compute, which enforces the quota and answers a
            // repeated client token itself): AWS names an exceeded quota before the missing capacity, and a retried
            // launch (SDKs resend the same client token after a timeout) gets its first answer back, whatever the
            // quota and the hosts say now.
            var quotaLookup = context.Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{context.Caller.ProjectId}/quota", context.CancellationToken);
            var launchedBefore = clientToken is null ? Task.FromResult(false) : LaunchedBeforeAsync(context, clientToken);
            await Task.WhenAll(Settle(quotaLookup), Settle(launchedBefore));
            if (!await launchedBefore)
            {
                CheckQuota(await quotaLookup, flavor, min);
                throw new Ec2Exception("InsufficientInstanceCapacity",
                    fit.Flavors[0].Reason ?? $"There is not enough capacity for {min} instance(s) of type {flavor.Name}; {fit.Flavors[0].Count} would fit now.");
            }
        }

        LaunchResult launched;
        try
        {
            launched = await context.Api.SendAsync<LaunchResult>(HttpMethod.Post, "compute", "compute/v1/instances", new LaunchInstancesRequest(
                tags.GetValueOrDefault("Name") is { Length: > 0 } name ? name : "ec2-instance", flavor.Id.ToString(), image.Id, keyName, userData, null,
                tags.Count > 0 ? tags : null, null, zone, min, max, clientToken), context.CancellationToken);
        }
        catch (ModuleProblemException problem)
        {
            throw LaunchRefusal(problem, imageId, keyName, instanceType);
        }
        return
        [
            X("reservationId", Ec2Ids.Of(Ec2Ids.Reservation, launched.ReservationId)),
            X("ownerId", context.Caller.Account),
            X("groupSet"),
            Set("instancesSet", launched.Instances.OrderBy(i => i.LaunchIndex).Select(Instances.Item)),
        ];
    }

    /// <summary>
    /// The flavor a launch names, kept a few seconds per project (<see cref="Ec2ApiOptions.LaunchLookupsCacheFor"/>):
    /// flavors change seldom, and this one feeds only the capacity and quota pre-checks. Compute looks the flavor up
    /// again when it inserts the instances, so a flavor removed meanwhile is still refused, as InvalidParameterValue.
    /// </summary>
    private static Task<FlavorView?> FlavorAsync(Ec2Context context, string instanceType) =>
        CachedAsync(context, instanceType, () => context.Api.FindAsync<FlavorView>("compute", $"compute/v1/flavors/{Uri.EscapeDataString(instanceType)}", context.CancellationToken));

    /// <summary>
    /// The image an AMI id names, kept like the flavor: finding it means listing every image the project sees (EC2 ids
    /// are hashes of the image ids). A launch passes on only its id, and Compute asks Images for that image for the
    /// project again, so an image deleted, deactivated or unshared meanwhile is still refused (InvalidAMIID.*). A dry
    /// run reports the image's state, so it always looks.
    /// </summary>
    private static async Task<ImageView> ImageAsync(Ec2Context context, string imageId) => context.DryRun
        ? await Images.ResolveOneAsync(context, imageId)
        : (await CachedAsync<ImageView>(context, imageId, async () => await Images.ResolveOneAsync(context, imageId)))!;

    private static async Task<T?> CachedAsync<T>(Ec2Context context, string name, Func<Task<T?>> lookup) where T : class
    {
        var cache = context.Services.GetRequiredService<IMemoryCache>();
        var key = (typeof(T), context.Caller.ProjectId, name);
        if (cache.TryGetValue(key, out T? known))
            return known;
        var found = await lookup();
        if (found is not null)
            cache.Set(key, found, context.Options.LaunchLookupsCacheFor);
        return found;
    }

    private static async Task<bool> LaunchedBeforeAsync(Ec2Context context, string clientToken)
    {
        var since = (context.Now - TimeSpan.FromDays(1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var page = await context.Api.GetAsync<InstancePage>("compute",
            $"compute/v1/instances?limit=1&deletedSince={since}&clientToken={Uri.EscapeDataString(clientToken)}", context.CancellationToken);
        return page.Instances.Count > 0;
    }

    /// <summary>Waits for a lookup without throwing: its own await, in order, reports the first refusal.</summary>
    private static async Task Settle(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is Ec2Exception or ModuleProblemException or HttpRequestException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// AWS names the quota before the capacity: when the hosts have no room, a launch the project's quota cannot take
    /// either is refused as a quota error. A launch that fits goes to Compute, which checks the quota atomically when it
    /// inserts the instances (its refusal maps to the same codes, <see cref="LaunchRefusal"/>).
    /// </summary>
    private static void CheckQuota(ProjectQuota quota, FlavorView flavor, int min)
    {
        if (QuotaHeadroom.Left(quota, "instances") is { } instances && instances < min)
            throw new Ec2Exception("InstanceLimitExceeded", $"Your quota allows for {instances} more running instance(s). You requested at least {min}.");
        if (QuotaHeadroom.Left(quota, "cores") is { } cores && cores < (long)min * flavor.VCpus)
            throw new Ec2Exception("VcpuLimitExceeded",
                $"You have requested more vCPU capacity than your current vCPU limit allows: {cores} vCPUs left, {min * flavor.VCpus} requested.");
        if (QuotaHeadroom.Left(quota, "ram_mb") is { } ram && ram < (long)min * flavor.RamMb)
            throw new Ec2Exception("InstanceLimitExceeded", $"Your RAM quota allows {ram} MB more; {(long)min * flavor.RamMb} MB requested.");
    }

    /// <summary>
    /// AWS refuses a launch with no room at once (InsufficientInstanceCapacity); Compute would accept it and fail it
    /// later, so the Scheduler's fit check is asked first, and its sentence is the message. Null: no answer in time,
    /// and the launch is not refused on a guess (the Scheduler will answer the build itself).
    /// </summary>
    private static async Task<FitReport?> FitAsync(Ec2Context context, Task<FlavorView?> flavorLookup, string? zone)
    {
        if (await flavorLookup is not { } flavor)
            return null;
        var client = context.Services.GetRequiredService<IRequestClient<CheckFit>>();
        try
        {
            var response = await client.GetResponse<FitReport>(new CheckFit(context.Caller.ProjectId, zone,
                [new FlavorToFit(flavor.Id.ToString(), new PlacementResources(flavor.VCpus, flavor.RamMb, flavor.DiskGb + flavor.EphemeralGb), flavor.ExtraSpecs)]),
                context.CancellationToken);
            return response.Message;
        }
        catch (RequestTimeoutException)
        {
            return null;
        }
    }

    private static bool Fits(FitReport report, int min) => report is not { Flavors: [var fit, ..] } || fit.Count >= min;

    private static Ec2Exception LaunchRefusal(ModuleProblemException problem, string imageId, string? keyName, string instanceType)
    {
        string? Extension(string name) => problem.Problem.ValueKind == System.Text.Json.JsonValueKind.Object && problem.Problem.TryGetProperty(name, out var v)
            ? v.ToString() : null;
        return (problem.Status, problem.Code) switch
        {
            (403, "quota_exceeded") when Extension("resource") == "cores" => new Ec2Exception("VcpuLimitExceeded",
                $"You have requested more vCPU capacity than your current vCPU limit of {Extension("limit")} allows. {problem.Message}"),
            (403, "quota_exceeded") => new Ec2Exception("InstanceLimitExceeded", $"Your quota does not allow this launch. {problem.Message}"),
            (403, _) => Ec2Exception.Unauthorized(),
            (409, "idempotent_parameter_mismatch") => new Ec2Exception("IdempotentParameterMismatch",
                "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."),
            (_, "key_pair_not_found") => Ec2Errors.KeyPairNotFound(keyName ?? ""),
            (_, "flavor_not_found") => Ec2Exception.Invalid($"Invalid value '{instanceType}' for InstanceType."),
            (_, "image_not_found") => Ec2Errors.ImagesNotFound([imageId]),
            (400, var code) when code.StartsWith("image_", StringComparison.Ordinal) => new Ec2Exception("InvalidAMIID.Unavailable", problem.Message),
            (400, _) => Ec2Exception.Invalid(problem.Message),
            _ => Ec2Errors.From(problem),
        };
    }

    private static async Task<IEnumerable<object?>> DescribeAsync(Ec2Context context)
    {
        var ids = context.Parameters.List("InstanceId");
        if (ids.Count > 0 && context.Parameters.Value("MaxResults") is not null)
            throw new Ec2Exception("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        var instances = ids.Count > 0 ? await Instances.ResolveAsync(context, ids) : await Instances.VisibleAsync(context);
        var (page, next) = Ec2Paging.Page(Instances.Filter(context, instances), Instances.SortKey, context.Parameters, 5, 1000);
        return [Instances.ReservationSet(context, page), Opt("nextToken", next)];
    }

    private static async Task<IEnumerable<object?>> DescribeStatusAsync(Ec2Context context)
    {
        var ids = context.Parameters.List("InstanceId");
        if (ids.Count > 0 && context.Parameters.Value("MaxResults") is not null)
            throw new Ec2Exception("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults");
        var all = context.Parameters.Bool("IncludeAllInstances");
        var instances = ids.Count > 0 ? await Instances.ResolveAsync(context, ids) : await Instances.VisibleAsync(context);
        var shown = Instances.Filter(context, instances).Where(i => all || InstanceState.Of(i) == InstanceState.Running).ToList();
        var (page, next) = Ec2Paging.Page(shown, Instances.SortKey, context.Parameters, 5, 1000);
        return
        [
            Set("instanceStatusSet", page.Select(i =>
            {
                var state = InstanceState.Of(i);
                // Compute knows the guest runs (libvirt says so); reachability checks inside the guest come with networking.
                var status = state == InstanceState.Running ? "ok" : "not-applicable";
                var detail = state == InstanceState.Running ? "passed" : "not-applicable";
                return new object?[]
                {
                    X("instanceId", Ec2Ids.Of(Ec2Ids.Instance, i.Id)),
                    X("availabilityZone", i.AvailabilityZone ?? Instances.DefaultZone),
                    Instances.StateElement("instanceState", state),
                    X("systemStatus", X("status", status), Set("details", [[X("name", "reachability"), X("status", detail)]])),
                    X("instanceStatus", X("status", status), Set("details", [[X("name", "reachability"), X("status", detail)]])),
                };
            })),
            Opt("nextToken", next),
        ];
    }

    private static async Task<IEnumerable<object?>> ChangeAsync(Ec2Context context, string action)
    {
        if (action == "stop" && context.Parameters.Bool("Hibernate"))
            throw new Ec2Exception("UnsupportedOperation", "Hibernation is not supported.");
        var instances = await Instances.ResolveAsync(context, Instances.RequiredIds(context));
        foreach (var instance in instances)
        {
            var state = InstanceState.Of(instance);
            if (state == InstanceState.Terminated || state == InstanceState.ShuttingDown)
                throw IncorrectState(instance, action);
        }
        context.ThrowIfDryRun();
        var items = new List<object?[]>();
        foreach (var instance in instances)
        {
            var before = InstanceState.Of(instance);
            var after = before;
            // As AWS: stopping a stopped instance or starting a running one succeeds and changes nothing.
            var nothingToDo = (action, before.Name) is ("stop", "stopped" or "stopping") or ("start", "running" or "pending");
            if (!nothingToDo)
            {
                try
                {
                    var changed = await context.Api.SendAsync<InstanceView>(HttpMethod.Post, "compute", $"compute/v1/instances/{instance.Id}/actions/{action}",
                        action == "reboot" ? new { type = "soft" } : null, context.CancellationToken);
                    after = InstanceState.Of(changed);
                }
                catch (ModuleProblemException problem) when (problem.Status == 409)
                {
                    throw IncorrectState(instance, action);
                }
                catch (ModuleProblemException problem) when (problem.Status == 404)
                {
                    throw Ec2Errors.InstancesNotFound([Ec2Ids.Of(Ec2Ids.Instance, instance.Id)]);
                }
            }
            items.Add([X("instanceId", Ec2Ids.Of(Ec2Ids.Instance, instance.Id)), Instances.StateElement("currentState", after), Instances.StateElement("previousState", before)]);
        }
        return action == "reboot" ? [X("return", true)] : [Set("instancesSet", items)];
    }

    private static Ec2Exception IncorrectState(InstanceView instance, string action)
    {
        var id = Ec2Ids.Of(Ec2Ids.Instance, instance.Id);
        var done = action switch { "start" => "started", "stop" => "stopped", _ => "rebooted" };
        // Compute runs one operation at a time: a reboot in progress (which EC2 shows as running) finishes first.
        return instance.Task is "rebooting" or "rebooting_hard"
            ? new("IncorrectInstanceState", $"The instance '{id}' is rebooting; it can be {done} once the reboot is done.")
            : new("IncorrectInstanceState", $"The instance '{id}' is not in a state from which it can be {done}.");
    }

    private static async Task<IEnumerable<object?>> TerminateAsync(Ec2Context context)
    {
        var instances = await Instances.ResolveAsync(context, Instances.RequiredIds(context));
        context.ThrowIfDryRun();
        var items = new List<object?[]>();
        foreach (var instance in instances)
        {
            var before = InstanceState.Of(instance);
            var after = before;
            // Terminating again succeeds, as in AWS.
            if (before != InstanceState.Terminated && before != InstanceState.ShuttingDown)
            {
                try
                {
                    after = InstanceState.Of(await context.Api.SendAsync<InstanceView>(HttpMethod.Delete, "compute", $"compute/v1/instances/{instance.Id}", null, context.CancellationToken));
                }
                catch (ModuleProblemException problem) when (problem.Status is 404 or 409)
                {
                    after = InstanceState.ShuttingDown;   // deleted or being deleted meanwhile
                }
            }
            items.Add([X("instanceId", Ec2Ids.Of(Ec2Ids.Instance, instance.Id)), Instances.StateElement("currentState", after), Instances.StateElement("previousState", before)]);
        }
        return [Set("instancesSet", items)];
    }

    private static async Task<IEnumerable<object?>> ConsoleOutputAsync(Ec2Context context)
    {
        var id = context.Parameters.Required("InstanceId");
        var instance = (await Instances.ResolveAsync(context, [id]))[0];
        string output;
        try
        {
            output = (await context.Api.GetAsync<ConsoleLogView>("compute", $"compute/v1/instances/{instance.Id}/console-log?lines=1000", context.CancellationToken)).Output;
        }
        catch (ModuleProblemException problem) when (problem.Status is 409 or 504)
        {
            output = "";   // not on a host (yet, or any more): AWS answers an empty output then
        }
        return
        [
            X("instanceId", id),
            X("timestamp", context.Now),
            X("output", Convert.ToBase64String(Encoding.UTF8.GetBytes(output))),
        ];
    }

    private static async Task<IEnumerable<object?>> AttributeAsync(Ec2Context context)
    {
        var id = context.Parameters.Required("InstanceId");
        var attribute = context.Parameters.Required("Attribute");
        var instance = (await Instances.ResolveAsync(context, [id]))[0];
        object? value = attribute switch
        {
            "userData" => X("userData", Opt("value",
                (await context.Api.GetAsync<InstanceUserDataView>("compute", $"compute/v1/instances/{instance.Id}/user-data", context.CancellationToken)).UserData)),
            "instanceType" => X("instanceType", X("value", instance.Flavor.Name)),
            "disableApiTermination" => X("disableApiTermination", X("value", false)),
            "instanceInitiatedShutdownBehavior" => X("instanceInitiatedShutdownBehavior", X("value", "stop")),
            "rootDeviceName" => X("rootDeviceName", X("value", "/dev/vda")),
            "groupSet" => X("groupSet"),
            "blockDeviceMapping" => X("blockDeviceMapping"),
            "ebsOptimized" => X("ebsOptimized", X("value", false)),
            _ => throw Ec2Exception.Invalid($"Value ({Ec2Parameters.Clip(attribute)}) for parameter attribute is invalid. Unknown attribute."),
        };
        return [X("instanceId", id), value];
    }

    private static bool IsBase64(string value)
    {
        Span<byte> buffer = new byte[(value.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(value, buffer, out _);
    }
}
