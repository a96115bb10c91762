using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Boto3;

/// <summary>
/// boto3 (Debian's python3-boto3) against an all-in-one on libvirt's simulated driver: the DescribeInstances paginator
/// over 25 instances, every error code of the contract provoked once, and every other action's parsed answer.
/// </summary>
public sealed partial class Boto3Tests(SimulatedEc2Cloud ec2) : IClassFixture<SimulatedEc2Cloud>
{
    private const int Count = 25;
    private const int PageSize = 5;

    [Fact]
    public async Task The_paginator_returns_all_25_instances_in_pages_of_at_most_5_once_each_and_the_last_page_has_no_token()
    {
        var image = await ec2.ImageIdAsync(ec2.ImageName);
        var result = await Boto3Scripts.RunAsync("paginate.py", ec2, ec2.MemberA, new Dictionary<string, string>
        {
            ["IMAGE_ID"] = image, ["NANO"] = Ec2Cloud.Nano, ["COUNT"] = $"{Count}", ["PAGE_SIZE"] = $"{PageSize}",
        }, TimeSpan.FromMinutes(5));

        var launched = result.At("launched").EnumerateArray().Select(l => l.Str("instance")).ToList();
        Assert.Equal(Count, launched.Distinct().Count());
        Assert.All(launched, Ec2Assert.InstanceId);
        Assert.Equal(Count, result.At("launched").EnumerateArray().Select(l => l.Str("reservation")).Distinct().Count());

        foreach (var (name, mustHoldAll) in new[] { ("filtered", true), ("unfiltered", false) })
        {
            var pages = result.At(name).EnumerateArray().ToList();
            var seen = pages.SelectMany(p => p.At("instances").EnumerateArray().Select(i => i.GetString()!)).ToList();
            Assert.True(seen.Count == seen.Distinct().Count(), $"{name}: an instance came back twice: {result.At(name)}");
            Assert.All(pages, p => Assert.True(p.At("instances").GetArrayLength() <= PageSize, $"{name}: a page larger than {PageSize}: {p}"));
            Assert.All(pages[..^1], p => Assert.True(p.At("nextToken").GetBoolean(), $"{name}: a page before the last without NextToken: {p}"));
            Assert.False(pages[^1].At("nextToken").GetBoolean(), $"{name}: the last page has a NextToken");
            if (mustHoldAll)
                Assert.Equal(launched.Order(), seen.Order());
            else
                Assert.Empty(launched.Except(seen));
            Assert.True(pages.Count >= Count / PageSize, $"{name}: {pages.Count} pages for at least {Count} instances");
        }
        Assert.All(result.At("terminated").EnumerateObject(), s => Assert.Equal("terminated", s.Value.GetString()));
    }

    /// <summary>The code and HTTP status each case must answer with (the names are those errors.py uses).</summary>
    private static readonly (string Case, string Code, int Status)[] Expected =
    [
        ("InvalidInstanceID.NotFound", "InvalidInstanceID.NotFound", 400),
        ("InvalidInstanceID.Malformed", "InvalidInstanceID.Malformed", 400),
        ("InvalidAMIID.NotFound", "InvalidAMIID.NotFound", 400),
        ("InvalidAMIID.Malformed", "InvalidAMIID.Malformed", 400),
        ("InvalidAMIID.NotFound (RunInstances)", "InvalidAMIID.NotFound", 400),
        ("InvalidKeyPair.NotFound", "InvalidKeyPair.NotFound", 400),
        ("InvalidKeyPair.NotFound (RunInstances)", "InvalidKeyPair.NotFound", 400),
        ("InvalidKeyPair.Duplicate", "InvalidKeyPair.Duplicate", 400),
        ("InstanceLimitExceeded", "InstanceLimitExceeded", 400),
        ("VcpuLimitExceeded", "VcpuLimitExceeded", 400),
        ("InvalidParameterValue (instance type)", "InvalidParameterValue", 400),
        ("InvalidParameterValue (filter)", "InvalidParameterValue", 400),
        ("InvalidParameterValue (MaxResults 4)", "InvalidParameterValue", 400),
        ("InvalidPaginationToken", "InvalidPaginationToken", 400),
        ("InvalidParameterCombination", "InvalidParameterCombination", 400),
        ("MissingParameter", "MissingParameter", 400),
        ("InvalidAction", "InvalidAction", 400),
        ("UnsupportedOperation (describe_volumes)", "UnsupportedOperation", 400),
        ("UnsupportedOperation (create_security_group)", "UnsupportedOperation", 400),
        ("UnsupportedOperation (describe_vpcs)", "UnsupportedOperation", 400),
        ("UnsupportedOperation (describe_subnets)", "UnsupportedOperation", 400),
        ("UnsupportedOperation (allocate_address)", "UnsupportedOperation", 400),
        ("UnauthorizedOperation", "UnauthorizedOperation", 403),
        ("UnauthorizedOperation (DryRun)", "UnauthorizedOperation", 403),
        ("DryRunOperation", "DryRunOperation", 412),
        ("AuthFailure (unknown key)", "AuthFailure", 401),
        ("AuthFailure (other region)", "AuthFailure", 401),
        ("RequestExpired", "RequestExpired", 400),
        ("IdempotentParameterMismatch", "IdempotentParameterMismatch", 400),
        ("IncorrectInstanceState", "IncorrectInstanceState", 400),
    ];

    [Fact]
    public async Task Each_error_code_of_the_contract_answers_with_its_code_and_http_status()
    {
        var image = await ec2.ImageIdAsync(ec2.ImageName);
        var result = await Boto3Scripts.RunAsync("errors.py", ec2, ec2.MemberA, new Dictionary<string, string>
        {
            ["IMAGE_ID"] = image, ["NANO"] = Ec2Cloud.Nano, ["WIDE"] = Ec2Cloud.Wide, ["TOOBIG"] = Ec2Cloud.TooBig,
        }, TimeSpan.FromMinutes(5));
        var cases = result.At("cases");

        var wrong = new List<string>();
        foreach (var (name, code, status) in Expected)
        {
            if (!cases.TryGetProperty(name, out var outcome))
                wrong.Add($"{name}: not run");
            else if (!outcome.TryGetProperty("code", out var actual) || actual.GetString() != code || outcome.At("status").GetInt32() != status)
                wrong.Add($"{name}: expected {code} {status}, got {outcome}");
            else if (string.IsNullOrWhiteSpace(outcome.At("message").GetString()))
                wrong.Add($"{name}: {code} without a message");
        }
        // A bad signature: EC2 answers AuthFailure 401; SignatureDoesNotMatch 403 is allowed by the contract.
        var badSignature = cases.At("AuthFailure (bad signature)");
        if (!(badSignature.TryGetProperty("code", out var c) && ((c.GetString() == "AuthFailure" && badSignature.At("status").GetInt32() == 401)
            || (c.GetString() == "SignatureDoesNotMatch" && badSignature.At("status").GetInt32() == 403))))
            wrong.Add($"AuthFailure (bad signature): expected AuthFailure 401 (or SignatureDoesNotMatch 403), got {badSignature}");

        wrong.AddRange(await CapacityProblemsAsync(result.At("capacity")));
        Assert.True(wrong.Count == 0, $"{wrong.Count} error cases answered wrongly:\n{string.Join('\n', wrong)}");
    }

    /// <summary>
    /// A flavor no host can take: InsufficientInstanceCapacity (500) from RunInstances, or an instance that ends with that
    /// reason. Either way the message carries the Scheduler's sentence (which Compute records as the fault).
    /// </summary>
    private async Task<List<string>> CapacityProblemsAsync(JsonElement capacity)
    {
        var problems = new List<string>();
        var form = capacity.Str("form");
        TestContext.Current.TestOutputHelper?.WriteLine($"InsufficientInstanceCapacity surfaced as: {form}: {capacity}");
        string message;
        if (form == "error")
        {
            var run = capacity.At("run");
            if (run.Str("code") != "InsufficientInstanceCapacity" || run.At("status").GetInt32() != 500)
                problems.Add($"InsufficientInstanceCapacity: expected 500 InsufficientInstanceCapacity, got {run}");
            message = run.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
        }
        else
        {
            var instance = capacity.At("instance");
            var reason = instance.TryGetProperty("StateReason", out var r) ? r : default;
            if (reason.ValueKind != JsonValueKind.Object || !(reason.TryGetProperty("Code", out var code) && (code.GetString() ?? "").Contains("InsufficientInstanceCapacity", StringComparison.Ordinal)))
                problems.Add($"InsufficientInstanceCapacity: the instance ended without that StateReason: {instance}");
            message = reason.ValueKind == JsonValueKind.Object && reason.TryGetProperty("Message", out var m) ? m.GetString() ?? "" : "";
            var state = instance.TryGetProperty("State", out var s) ? s.Str("Name") : "";
            if (state is not ("terminated" or "shutting-down"))
                problems.Add($"InsufficientInstanceCapacity: the instance that cannot be placed is {state}, expected terminated: {instance}");
        }
        // The free capacity in the sentence moves as other tests' instances come and go: compare with the numbers masked.
        var sentence = await SchedulerSentenceAsync();
        if (!Digits().Replace(message, "#").Contains(Digits().Replace(sentence, "#"), StringComparison.Ordinal))
            problems.Add($"InsufficientInstanceCapacity: message '{message}' is not the Scheduler's sentence '{sentence}'");
        return problems;
    }

    /// <summary>
    /// The Scheduler's reason for the same flavor, as Compute records it ("No valid host: {reason}.") for an instance it
    /// could not place: launched here through Compute's own API, then deleted.
    /// </summary>
    private async Task<string> SchedulerSentenceAsync()
    {
        using var compute = OidcClient.Api(ec2.Cloud.ComputeUrl, ec2.Tenants.Token("memberA"), ec2.Tenants.ProjectA);
        using var launched = await compute.PostAsJsonAsync("compute/v1/instances", new { name = "capacity-probe", flavorId = Ec2Cloud.TooBig, imageId = ec2.ImageGuid });
        var body = await launched.Content.ReadAsStringAsync();
        Assert.True(launched.IsSuccessStatusCode, $"launch {Ec2Cloud.TooBig} through Compute: {(int)launched.StatusCode} {body}");
        var id = JsonDocument.Parse(body).RootElement.At("instances", 0).Str("id");
        var fault = default(JsonElement);
        await Eventually.TrueAsync(async () =>
        {
            var instance = await compute.GetFromJsonAsync<JsonElement>($"compute/v1/instances/{id}");
            fault = instance.TryGetProperty("fault", out var f) ? f : default;
            return fault.ValueKind == JsonValueKind.Object;
        }, $"Compute's fault for {id}");
        (await compute.DeleteAsync($"compute/v1/instances/{id}")).Dispose();
        Assert.Equal("no_valid_host", fault.Str("code"));
        var text = fault.Str("message");
        const string prefix = "No valid host: ";
        return (text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text).TrimEnd('.');
    }

    [Fact]
    public async Task Every_other_action_answers_what_boto3_parses_into_the_expected_values()
    {
        var (publicKey, fingerprint) = OpenSshKey.NewRsa("boto3-import");
        var r = await Boto3Scripts.RunAsync("surface.py", ec2, ec2.MemberA, new Dictionary<string, string>
        {
            ["IMAGE_NAME"] = ec2.ImageName, ["PUBLIC_IMAGE_NAME"] = ec2.PublicImageName, ["SPARE_IMAGE_NAME"] = ec2.SpareImageName,
            ["NANO"] = Ec2Cloud.Nano, ["PUBLIC_KEY"] = publicKey,
        }, TimeSpan.FromMinutes(5));

        // Region, zone, account, instance types.
        Assert.Contains(r.At("regions").EnumerateArray(), x => x.Str("RegionName") == Ec2Cloud.Region);
        var zone = Assert.Single(r.At("zones").EnumerateArray(), z => z.Str("ZoneName") == Ec2Cloud.Zone);
        Assert.Equal("available", zone.Str("State"));
        Assert.Equal(Ec2Cloud.Region, zone.Str("RegionName"));
        var attributes = r.At("account").EnumerateArray().ToDictionary(a => a.Str("AttributeName"),
            a => a.At("AttributeValues").EnumerateArray().Select(v => v.Str("AttributeValue")).ToList());
        Assert.True(attributes.ContainsKey("max-instances"), $"account attributes: {r.At("account")}");
        Assert.True(int.TryParse(Assert.Single(attributes["max-instances"]), out var maxInstances) && maxInstances > 0, $"max-instances: {r.At("account")}");
        var nano = Assert.Single(r.At("nanoType").EnumerateArray());
        Assert.Equal(Ec2Cloud.Nano, nano.Str("InstanceType"));
        Assert.Equal(1, nano.At("VCpuInfo", "DefaultVCpus").GetInt32());
        Assert.Equal(64, nano.At("MemoryInfo", "SizeInMiB").GetInt32());
        var types = r.At("allTypes").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains("m1.tiny", types);
        Assert.Contains(Ec2Cloud.Nano, types);
        Assert.Equal(types.Count, types.Distinct().Count());

        // Images.
        var self = Assert.Single(r.At("imagesSelf").EnumerateArray());
        var ami = self.Str("ImageId");
        Ec2Assert.ImageId(ami);
        Assert.Equal(ec2.ImageName, self.Str("Name"));
        Assert.Equal("available", self.Str("State"));
        Assert.False(self.At("Public").GetBoolean());
        Assert.NotEmpty(self.Str("OwnerId"));
        Assert.Equal([ami], r.At("imagesExecutable").EnumerateArray().Select(i => i.Str("ImageId")).ToList());
        var launchable = r.At("imagesDefault").EnumerateArray().Select(i => i[1].GetString()).ToList();
        Assert.Contains(ec2.ImageName, launchable);
        Assert.Contains(ec2.PublicImageName, launchable);
        var amazon = r.At("imagesAmazon").EnumerateArray().ToList();
        Assert.Contains(amazon, i => i[1].GetString() == ec2.PublicImageName);
        Assert.DoesNotContain(amazon, i => i[1].GetString() == ec2.ImageName);
        Assert.All(amazon, i => Assert.True(i[2].GetBoolean(), $"Owner amazon lists a private image: {i}"));
        Assert.Contains(ami, r.At("imagesByAccount").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal(ami, Assert.Single(r.At("imagesById").EnumerateArray()).Str("ImageId"));
        Assert.True(r.At("deregister").At("ok").GetBoolean(), $"DeregisterImage: {r.At("deregister")}");
        var afterDeregister = r.At("afterDeregister");
        Assert.True(afterDeregister.TryGetProperty("code", out var code) ? code.GetString() == "InvalidAMIID.NotFound"
            : afterDeregister.At("result", "Images").EnumerateArray().All(i => i.Str("State") == "deregistered"),
            $"DescribeImages of a deregistered image: {afterDeregister}");
        Assert.Empty(r.At("afterDeregisterByName").EnumerateArray());

        // Key pairs.
        var keys = r.At("keys");
        foreach (var (name, type) in new[] { ("rsa", "rsa"), ("ed25519", "ed25519"), ("imported", "rsa") })
        {
            Ec2Assert.KeyPairId(keys.Str(name, "KeyPairId"));
            Assert.NotEmpty(keys.Str(name, "KeyFingerprint"));
            var listed = Assert.Single(keys.At("byName").EnumerateArray(), k => k.Str("KeyName") == keys.Str(name, "KeyName"));
            Assert.Equal(type, listed.Str("KeyType"));
            Assert.Equal(keys.Str(name, "KeyPairId"), listed.Str("KeyPairId"));
            Assert.Equal(keys.Str(name, "KeyFingerprint"), listed.Str("KeyFingerprint"));
        }
        Assert.StartsWith("-----BEGIN", keys.Str("rsaMaterial", 0));
        Assert.StartsWith("-----BEGIN", keys.Str("ed25519Material", 0));
        Assert.Equal(fingerprint, keys.Str("imported", "KeyFingerprint"));
        Assert.Equal(new[] { keys.Str("rsa", "KeyName"), keys.Str("imported", "KeyName") }.Order(), keys.At("byId").EnumerateArray().Select(k => k.GetString()).Order());
        Assert.StartsWith(string.Join(' ', publicKey.Split(' ')[..2]), Assert.Single(keys.At("withPublicKey").EnumerateArray()).Str("PublicKey"));
        Assert.True(keys.At("delete", "ok").GetBoolean() && keys.At("deleteById", "ok").GetBoolean(), $"DeleteKeyPair: {keys.At("delete")} {keys.At("deleteById")}");
        Assert.Equal("InvalidKeyPair.NotFound", keys.Str("afterDelete", "code"));
        var left = keys.At("left").EnumerateArray().Select(k => k.GetString()).ToList();
        Assert.Contains(keys.Str("imported", "KeyName"), left);
        Assert.DoesNotContain(keys.Str("rsa", "KeyName"), left);
        Assert.DoesNotContain(keys.Str("ed25519", "KeyName"), left);

        // The instance.
        var id = r.Str("instanceId");
        Ec2Assert.InstanceId(id);
        Ec2Assert.ReservationId(r.Str("run", "ReservationId"));
        var running = r.At("running");
        Ec2Assert.State(running.At("State"), "running");
        Assert.Equal(keys.Str("imported", "KeyName"), running.Str("KeyName"));
        Assert.Equal(Ec2Cloud.Zone, running.Str("Placement", "AvailabilityZone"));
        Assert.Equal(ami, running.Str("ImageId"));
        Assert.Equal(Ec2Cloud.Nano, running.Str("InstanceType"));
        var status = Assert.Single(r.At("status", "InstanceStatuses").EnumerateArray());
        Assert.Equal(id, status.Str("InstanceId"));
        Ec2Assert.State(status.At("InstanceState"), "running");
        Assert.Equal(Ec2Cloud.Zone, status.Str("AvailabilityZone"));
        Assert.Equal("hello user data", Encoding.UTF8.GetString(Convert.FromBase64String(r.Str("userData", "Value"))));
        Assert.Equal(Ec2Cloud.Nano, r.Str("instanceType", "Value"));

        Assert.True(r.At("createTags", "ok").GetBoolean(), $"CreateTags: {r.At("createTags")}");
        var tags = r.At("tags").EnumerateArray().ToDictionary(t => t.Str("Key"), t => t);
        Assert.Equal("test", tags["env"].Str("Value"));
        Assert.All(tags.Values, t => Assert.Equal(id, t.Str("ResourceId")));
        Assert.All(tags.Values, t => Assert.Equal("instance", t.Str("ResourceType")));
        Assert.Contains("Name", tags.Keys);
        Assert.Equal([id], r.At("byTag").EnumerateArray().Select(i => i.GetString()).ToList());
        Assert.Contains(id, r.At("byRunning").EnumerateArray().Select(i => i.GetString()));
        Assert.DoesNotContain(id, r.At("byStopped").EnumerateArray().Select(i => i.GetString()));
        Assert.True(r.At("deleteTags", "ok").GetBoolean(), $"DeleteTags: {r.At("deleteTags")}");
        Assert.DoesNotContain(r.At("tagsAfterDelete").EnumerateArray(), t => t.Str("Key") == "env");
        Assert.Contains(r.At("tagsAfterDelete").EnumerateArray(), t => t.Str("Key") == "owner");
        Assert.True(r.At("reboot", "ok").GetBoolean(), $"RebootInstances: {r.At("reboot")}");
        Ec2Assert.State(r.At("stateAfterReboot"), "running");

        Ec2Assert.State(r.At("stop", "StoppingInstances", 0, "CurrentState"), "stopping", "stopped");
        Assert.Empty(r.At("statusStoppedDefault").EnumerateArray());
        Ec2Assert.State(Assert.Single(r.At("statusStoppedAll").EnumerateArray()).At("InstanceState"), "stopped");
        Ec2Assert.State(r.At("terminate", "TerminatingInstances", 0, "PreviousState"), "stopped");
        Ec2Assert.State(r.At("terminated", "State"), "terminated");
        Assert.True(r.At("terminateAgain", "ok").GetBoolean(), $"a second TerminateInstances: {r.At("terminateAgain")}");

        // MinCount 2, MaxCount 3: two or three instances in one reservation, launch indexes 0, 1(, 2).
        var multi = r.At("multi");
        var count = multi.At("Instances").GetArrayLength();
        Assert.InRange(count, 2, 3);
        Ec2Assert.ReservationId(multi.Str("ReservationId"));
        var described = r.At("multiDescribed").EnumerateArray().ToList();
        Assert.Equal(count, described.Count);
        Assert.All(described, d => Assert.Equal(multi.Str("ReservationId"), d.Str("reservation")));
        Assert.Equal(Enumerable.Range(0, count), described.Select(d => d.At("launchIndex").GetInt32()).Order());
    }

    [System.Text.RegularExpressions.GeneratedRegex("[0-9]+")]
    private static partial System.Text.RegularExpressions.Regex Digits();
}
