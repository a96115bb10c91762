using System.Text;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Security;

/// <summary>
/// What the EC2 API refuses, with hand-signed requests (the repository's SigV4 code, botocore's header set): stale and
/// tampered signatures, foreign scopes and secrets, a reader's changes, and anything of project A asked for by project B.
/// </summary>
public sealed class SecurityTests(SimulatedEc2Cloud ec2) : IClassFixture<SimulatedEc2Cloud>
{
    private static readonly string Body = Ec2Signer.Form("DescribeInstances", ("MaxResults", "10"));

    [Fact]
    public async Task A_signature_20_minutes_old_is_RequestExpired_and_a_signed_body_with_one_byte_changed_is_AuthFailure()
    {
        var signer = ec2.Signer;
        var fresh = signer.Post(ec2.MemberA, Body);
        var ok = Ec2Answer.Of(await fresh.SendAsync(signer.Endpoint));
        Assert.True(ok.Status == 200 && ok.Xml?.Root?.Name.LocalName == "DescribeInstancesResponse", $"the fresh request: {ok}");

        // Inside AWS's 15 minutes: accepted.
        var tenMinutes = Ec2Answer.Of(await signer.Post(ec2.MemberA, Body, DateTimeOffset.UtcNow.AddMinutes(-10)).SendAsync(signer.Endpoint));
        Assert.True(tenMinutes.Status == 200, $"signed 10 minutes ago: {tenMinutes}");

        var stale = Ec2Answer.Of(await signer.Post(ec2.MemberA, Body, DateTimeOffset.UtcNow.AddMinutes(-20)).SendAsync(signer.Endpoint));
        Assert.True(stale.Status == 400 && stale.ErrorCode == "RequestExpired", $"signed 20 minutes ago: {stale}");
        Assert.NotNull(stale.Response.Header("Date"));
        // The error's RequestID is the x-amzn-RequestId header (JS v3 reads the header, botocore and .NET the body).
        var requestId = Assert.Single(stale.Values("RequestID"));
        Assert.False(string.IsNullOrEmpty(requestId));
        Assert.Equal(requestId, stale.Response.Header("x-amzn-RequestId"));

        // The fresh request's signature over a body with one byte changed (MaxResults=10 → 11).
        var tampered = fresh with { Body = Encoding.UTF8.GetBytes(Body.Replace("MaxResults=10", "MaxResults=11", StringComparison.Ordinal)) };
        Assert.Equal(fresh.Body!.Length, tampered.Body!.Length);
        var refused = Ec2Answer.Of(await tampered.SendAsync(signer.Endpoint));
        Assert.True(refused.Status == 401 && refused.ErrorCode == "AuthFailure", $"one body byte changed: {refused}");
    }

    [Fact]
    public async Task A_signed_GET_and_a_URL_presigned_by_botocore_are_answered_like_a_POST()
    {
        var signer = ec2.Signer;
        var get = Ec2Answer.Of(await signer.Get(ec2.MemberA, Ec2Signer.Form("DescribeRegions", ("RegionName.1", Ec2Cloud.Region))).SendAsync(signer.Endpoint));
        Assert.True(get.Status == 200 && get.Xml?.Root?.Name.LocalName == "DescribeRegionsResponse", $"signed GET: {get}");
        Assert.Equal([Ec2Cloud.Region], get.Values("regionName"));
        Assert.Equal("http://ec2.amazonaws.com/doc/2016-11-15/", get.Xml!.Root!.Name.NamespaceName);
        Assert.Equal(get.Values("requestId").Single(), get.Response.Header("x-amzn-RequestId"));
        Assert.StartsWith("text/xml", get.Response.Header("Content-Type") ?? "", StringComparison.Ordinal);

        // botocore_sign.py presign: DescribeInstances as a GET URL with X-Amz-Algorithm ... X-Amz-Signature in the query.
        var info = new System.Diagnostics.ProcessStartInfo(Boto3Scripts.Python, [Path.Combine(AppContext.BaseDirectory, "botocore_sign.py"), "presign",
            "--endpoint", ec2.Endpoint, "--access-key", ec2.MemberA.Id, "--secret", ec2.MemberA.Secret, "--region", Ec2Cloud.Region, "--expires", "300"]);
        var signed = await HermeticEnvironment.RunAsync(info, TimeSpan.FromMinutes(1));
        Assert.True(signed.ExitCode == 0, signed.Output);
        var url = System.Text.Json.JsonDocument.Parse(signed.StandardOutput).RootElement.GetProperty("url").GetString()!;
        var target = url[new Uri(url).GetLeftPart(UriPartial.Authority).Length..];   // exactly as botocore signed it
        var presigned = Ec2Answer.Of(await RawHttp.SendAsync(signer.Endpoint, "GET", target, [new("Host", signer.Host)], null));
        Assert.True(presigned.Status == 200 && presigned.Xml?.Root?.Name.LocalName == "DescribeInstancesResponse", $"presigned URL {url}: {presigned}");
    }

    [Fact]
    public async Task A_signature_scoped_to_another_region_or_service_or_made_with_another_secret_or_key_is_AuthFailure()
    {
        var signer = ec2.Signer;
        var answers = new Dictionary<string, Ec2Answer>
        {
            ["region us-east-1"] = Ec2Answer.Of(await signer.Post(ec2.MemberA, Body, region: "us-east-1").SendAsync(signer.Endpoint)),
            ["region cp-2"] = Ec2Answer.Of(await signer.Post(ec2.MemberA, Body, region: "cp-2").SendAsync(signer.Endpoint)),
            ["service s3"] = Ec2Answer.Of(await signer.Post(ec2.MemberA, Body, service: "s3").SendAsync(signer.Endpoint)),
            ["another secret"] = Ec2Answer.Of(await signer.Post(ec2.MemberA, Encoding.UTF8.GetBytes(Body), secret: new string('x', 40)).SendAsync(signer.Endpoint)),
            ["unknown key"] = Ec2Answer.Of(await signer.Post(ec2.MemberA with { Id = "AKIAUNKNOWNUNKNOWN00" }, Body).SendAsync(signer.Endpoint)),
            ["another project's key for this body, B"] = Ec2Answer.Of(await signer.Post(ec2.MemberB, Encoding.UTF8.GetBytes(Body), secret: ec2.MemberA.Secret).SendAsync(signer.Endpoint)),
        };
        foreach (var (what, answer) in answers)
        {
            Assert.True(answer.Status == 401 && answer.ErrorCode == "AuthFailure", $"{what}: {answer}");
            Assert.NotNull(answer.Response.Header("Date"));
        }
        // An unknown key and a wrong signature are told apart by nothing.
        Assert.Equal(answers["unknown key"].ErrorMessage, answers["another secret"].ErrorMessage);
    }

    [Fact]
    public async Task A_readers_key_describes_and_reads_the_console_but_every_change_is_UnauthorizedOperation()
    {
        var member = ec2.Query(ec2.MemberA);
        var reader = ec2.Query(ec2.ReaderA);
        var image = await ec2.ImageIdAsync(ec2.ImageName);
        var id = await LaunchAsync(member, image, "reader-target");
        var keyName = $"member-key-{Guid.NewGuid():N}"[..24];
        await member.OkAsync("CreateKeyPair", ("KeyName", keyName));

        Assert.Contains(id, (await reader.OkAsync("DescribeInstances")).Values("instanceId"));
        Assert.Contains(image, (await reader.OkAsync("DescribeImages", ("Owner.1", "self"))).Values("imageId"));
        Assert.Contains(keyName, (await reader.OkAsync("DescribeKeyPairs")).Values("keyName"));
        await reader.OkAsync("DescribeInstanceStatus", ("IncludeAllInstances", "true"));
        await reader.OkAsync("DescribeTags");
        await reader.OkAsync("GetConsoleOutput", ("InstanceId", id));
        await reader.OkAsync("DescribeInstanceAttribute", ("InstanceId", id), ("Attribute", "instanceType"));

        var changes = new (string Action, (string, string)[] Parameters)[]
        {
            ("RunInstances", [("ImageId", image), ("InstanceType", Ec2Cloud.Nano), ("MinCount", "1"), ("MaxCount", "1")]),
            ("StopInstances", [("InstanceId.1", id)]),
            ("StartInstances", [("InstanceId.1", id)]),
            ("RebootInstances", [("InstanceId.1", id)]),
            ("TerminateInstances", [("InstanceId.1", id)]),
            ("CreateTags", [("ResourceId.1", id), ("Tag.1.Key", "by"), ("Tag.1.Value", "reader")]),
            ("DeleteTags", [("ResourceId.1", id), ("Tag.1.Key", "Name")]),
            ("CreateKeyPair", [("KeyName", "reader-key")]),
            ("ImportKeyPair", [("KeyName", "reader-import"), ("PublicKeyMaterial", Convert.ToBase64String(Encoding.ASCII.GetBytes(OpenSshKey.NewRsaPublicKey())))]),
            ("DeleteKeyPair", [("KeyName", keyName)]),
            ("DeregisterImage", [("ImageId", image)]),
        };
        foreach (var (action, parameters) in changes)
            await reader.ErrorAsync(403, "UnauthorizedOperation", action, parameters);

        // Nothing changed.
        var after = await member.OkAsync("DescribeInstances", ("InstanceId.1", id));
        Assert.Equal(["running"], States(after));
        Assert.DoesNotContain("reader", after.Values("value"));
        Assert.Contains(keyName, (await member.OkAsync("DescribeKeyPairs")).Values("keyName"));
        Assert.DoesNotContain("reader-key", (await member.OkAsync("DescribeKeyPairs")).Values("keyName"));
        Assert.Contains(image, (await member.OkAsync("DescribeImages", ("ImageId.1", image))).Values("imageId"));
    }

    [Fact]
    public async Task Project_B_never_sees_project_As_instances_images_or_key_pairs_and_cannot_touch_its_instance()
    {
        var a = ec2.Query(ec2.MemberA);
        var b = ec2.Query(ec2.MemberB);
        var image = await ec2.ImageIdAsync(ec2.ImageName);
        var tag = Guid.NewGuid().ToString("N");
        var id = await LaunchAsync(a, image, tag);
        var keyName = $"a-key-{Guid.NewGuid():N}"[..20];
        await a.OkAsync("CreateKeyPair", ("KeyName", keyName));

        // Describe*: A's things are simply absent.
        Assert.DoesNotContain(id, (await b.OkAsync("DescribeInstances")).Values("instanceId"));
        Assert.Empty((await b.OkAsync("DescribeInstances", ("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", tag))).Values("instanceId"));
        Assert.DoesNotContain(id, (await b.OkAsync("DescribeInstanceStatus", ("IncludeAllInstances", "true"))).Values("instanceId"));
        Assert.DoesNotContain(id, (await b.OkAsync("DescribeTags")).Values("resourceId"));
        foreach (var parameters in new[] { Array.Empty<(string, string)>(), [("Owner.1", "self")], [("ExecutableBy.1", "self")], [("Filter.1.Name", "name"), ("Filter.1.Value.1", ec2.ImageName)] })
        {
            var images = await b.OkAsync("DescribeImages", parameters);
            Assert.DoesNotContain(image, images.Values("imageId"));
            Assert.DoesNotContain(ec2.ImageName, images.Values("name"));
        }
        var owner = (await a.OkAsync("DescribeImages", ("ImageId.1", image))).Values("imageOwnerId").Single();
        Assert.DoesNotContain(image, (await b.OkAsync("DescribeImages", ("Owner.1", owner))).Values("imageId"));
        Assert.DoesNotContain(keyName, (await b.OkAsync("DescribeKeyPairs")).Values("keyName"));

        // By id or name: not found, exactly as if it did not exist.
        await b.ErrorAsync(400, "InvalidAMIID.NotFound", "DescribeImages", ("ImageId.1", image));
        await b.ErrorAsync(400, "InvalidAMIID.NotFound", "RunInstances", ("ImageId", image), ("InstanceType", Ec2Cloud.Nano), ("MinCount", "1"), ("MaxCount", "1"));
        await b.ErrorAsync(400, "InvalidAMIID.NotFound", "DeregisterImage", ("ImageId", image));
        await b.ErrorAsync(400, "InvalidKeyPair.NotFound", "DescribeKeyPairs", ("KeyName.1", keyName));
        foreach (var (action, parameters) in new (string, (string, string)[])[]
        {
            ("DescribeInstances", [("InstanceId.1", id)]),
            ("DescribeInstanceStatus", [("InstanceId.1", id)]),
            ("DescribeInstanceAttribute", [("InstanceId", id), ("Attribute", "userData")]),
            ("GetConsoleOutput", [("InstanceId", id)]),
            ("StopInstances", [("InstanceId.1", id)]),
            ("StartInstances", [("InstanceId.1", id)]),
            ("RebootInstances", [("InstanceId.1", id)]),
            ("TerminateInstances", [("InstanceId.1", id)]),
            ("CreateTags", [("ResourceId.1", id), ("Tag.1.Key", "owner"), ("Tag.1.Value", "b")]),
            ("DeleteTags", [("ResourceId.1", id), ("Tag.1.Key", "Name")]),
        })
        {
            var answer = await b.ErrorAsync(400, "InvalidInstanceID.NotFound", action, parameters);
            Assert.Contains(id, answer.ErrorMessage ?? "", StringComparison.Ordinal);
        }
        // Deleting a key pair that does not exist succeeds in EC2; A's key stays.
        await b.CallAsync("DeleteKeyPair", ("KeyName", keyName));

        var after = await a.OkAsync("DescribeInstances", ("InstanceId.1", id));
        Assert.Equal(["running"], States(after));
        Assert.Contains(tag, after.Values("value"));
        Assert.DoesNotContain("b", after.Values("value"));
        Assert.Contains(keyName, (await a.OkAsync("DescribeKeyPairs")).Values("keyName"));
        Assert.Contains(image, (await a.OkAsync("DescribeImages", ("ImageId.1", image))).Values("imageId"));
    }

    /// <summary>Launches one nano instance tagged Name=<paramref name="name"/> and waits until it runs.</summary>
    private static async Task<string> LaunchAsync(Ec2Query query, string image, string name)
    {
        var run = await query.OkAsync("RunInstances", ("ImageId", image), ("InstanceType", Ec2Cloud.Nano), ("MinCount", "1"), ("MaxCount", "1"),
            ("TagSpecification.1.ResourceType", "instance"), ("TagSpecification.1.Tag.1.Key", "Name"), ("TagSpecification.1.Tag.1.Value", name));
        var id = run.Values("instanceId").Single();
        Ec2Assert.InstanceId(id);
        Ec2Answer? last = null;
        await Eventually.TrueAsync(async () =>
        {
            last = await query.OkAsync("DescribeInstances", ("InstanceId.1", id));
            return States(last).SequenceEqual(["running"]);
        }, $"{id} running", TimeSpan.FromSeconds(90), () => last?.ToString() ?? "");
        return id;
    }

    private static List<string> States(Ec2Answer answer) =>
        answer.Xml!.Descendants().Where(e => e.Name.LocalName == "instanceState")
            .Select(s => s.Elements().Single(e => e.Name.LocalName == "name").Value).ToList();
}
