using System.Net;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.DotNetSdk;

/// <summary>
/// The AWS SDK for .NET (AWSSDK.EC2 4.0, the settings of EC2-API.md §4) driving the core path against an all-in-one whose
/// node boots the real guest: find the image, launch, wait by polling, read the guest's console, stop, start, terminate;
/// and an unknown instance id surfaces as the SDK's own exception with the AWS code and status.
/// </summary>
public sealed class DotNetSdkTests(RealEc2Cloud ec2) : IClassFixture<RealEc2Cloud>
{
    static DotNetSdkTests()
    {
        // AWSSDK.Core reads this too: never probe the instance metadata address, whatever the SDK would look up.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    private AmazonEC2Client Client(AccessKey key) =>
        new(new BasicAWSCredentials(key.Id, key.Secret), new AmazonEC2Config
        {
            ServiceURL = ec2.Endpoint,
            AuthenticationRegion = Ec2Cloud.Region,
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromMinutes(2),
        });

    [Fact]
    public async Task The_dotnet_sdk_launches_reaches_stops_starts_and_terminates_a_real_guest()
    {
        using var client = Client(ec2.MemberA);
        var cancel = TestContext.Current.CancellationToken;

        var regions = await client.DescribeRegionsAsync(new DescribeRegionsRequest(), cancel);
        Assert.Contains(regions.Regions, r => r.RegionName == Ec2Cloud.Region);
        var zones = await client.DescribeAvailabilityZonesAsync(new DescribeAvailabilityZonesRequest(), cancel);
        Assert.Contains(zones.AvailabilityZones, z => z.ZoneName == Ec2Cloud.Zone && z.State == AvailabilityZoneState.Available);
        var types = await client.DescribeInstanceTypesAsync(new DescribeInstanceTypesRequest { InstanceTypes = [Ec2Cloud.Nano] }, cancel);
        var nano = Assert.Single(types.InstanceTypes);
        Assert.Equal(1, nano.VCpuInfo.DefaultVCpus);
        Assert.Equal(64, nano.MemoryInfo.SizeInMiB);

        var images = await client.DescribeImagesAsync(new DescribeImagesRequest
        {
            Owners = ["self"],
            Filters = [new Filter("name", [ec2.ImageName])],
        }, cancel);
        var image = Assert.Single(images.Images);
        Ec2Assert.ImageId(image.ImageId);
        Assert.Equal(ImageState.Available, image.State);

        var name = $"sdk-guest-{ec2.Tenants.Suffix}";
        var run = await client.RunInstancesAsync(new RunInstancesRequest
        {
            ImageId = image.ImageId,
            InstanceType = new InstanceType(Ec2Cloud.Nano),
            MinCount = 1,
            MaxCount = 1,
            // The .NET SDK passes UserData through unchanged: the caller encodes it.
            UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes("hello from .NET")),
            TagSpecifications = [new TagSpecification { ResourceType = ResourceType.Instance, Tags = [new Tag("Name", name)] }],
        }, cancel);
        Ec2Assert.ReservationId(run.Reservation.ReservationId);
        var launched = Assert.Single(run.Reservation.Instances);
        var id = launched.InstanceId;
        Ec2Assert.InstanceId(id);
        Assert.Equal(InstanceStateName.Pending, launched.State.Name);
        Assert.Equal(0, launched.State.Code);

        var running = await WaitForStateAsync(client, id, InstanceStateName.Running);
        Assert.Equal(16, running.State.Code);
        Assert.Equal(Ec2Cloud.Nano, running.InstanceType?.Value);
        Assert.Equal(image.ImageId, running.ImageId);
        Assert.Contains(running.Tags ?? [], t => t.Key == "Name" && t.Value == name);
        Assert.Equal(Ec2Cloud.Zone, running.Placement.AvailabilityZone);
        var reservations = await client.DescribeInstancesAsync(new DescribeInstancesRequest
        {
            Filters = [new Filter("tag:Name", [name]), new Filter("instance-state-name", ["running"])],
        }, cancel);
        Assert.Equal([id], reservations.Reservations.SelectMany(r => r.Instances).Select(i => i.InstanceId).ToList());
        var userData = await client.DescribeInstanceAttributeAsync(new DescribeInstanceAttributeRequest { InstanceId = id, Attribute = InstanceAttributeName.UserData }, cancel);
        Assert.Equal("hello from .NET", Encoding.UTF8.GetString(Convert.FromBase64String(userData.InstanceAttribute.UserData)));

        // GetConsoleOutput is base64 (the .NET SDK hands it over undecoded): the guest's own line is in it.
        var console = "";
        await Eventually.TrueAsync(async () =>
        {
            var output = await client.GetConsoleOutputAsync(new GetConsoleOutputRequest { InstanceId = id }, cancel);
            console = output.Output is { Length: > 0 } encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(encoded)) : "";
            return console.Contains(GuestImage.Message, StringComparison.Ordinal);
        }, $"'{GuestImage.Message}' in the console output of {id}", TimeSpan.FromSeconds(120), () => console);

        var stopped = await client.StopInstancesAsync(new StopInstancesRequest { InstanceIds = [id] }, cancel);
        Assert.Equal(id, Assert.Single(stopped.StoppingInstances).InstanceId);
        Assert.Equal(80, (await WaitForStateAsync(client, id, InstanceStateName.Stopped)).State.Code);
        var started = await client.StartInstancesAsync(new StartInstancesRequest { InstanceIds = [id] }, cancel);
        Assert.Equal(InstanceStateName.Stopped, Assert.Single(started.StartingInstances).PreviousState.Name);
        await WaitForStateAsync(client, id, InstanceStateName.Running);

        // A reboot keeps the instance running (EC2 has no rebooting state). Compute runs one operation at a time, so a
        // stop sent while the reboot is still under way is refused with a sentence saying so (docs/api/ec2.md), and
        // taken once the reboot is done.
        await client.RebootInstancesAsync(new RebootInstancesRequest { InstanceIds = [id] }, cancel);
        Assert.Equal(InstanceStateName.Running, (await DescribeAsync(client, id)).State.Name);
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await client.StopInstancesAsync(new StopInstancesRequest { InstanceIds = [id] }, cancel);
                return true;
            }
            catch (AmazonEC2Exception refused) when (refused.ErrorCode == "IncorrectInstanceState")
            {
                Assert.Contains("rebooting", refused.Message, StringComparison.Ordinal);
                return false;
            }
        }, $"StopInstances of {id} taken after its reboot", TimeSpan.FromSeconds(150));
        await WaitForStateAsync(client, id, InstanceStateName.Stopped);

        var terminated = await client.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [id] }, cancel);
        Assert.Equal(InstanceStateName.Stopped, Assert.Single(terminated.TerminatingInstances).PreviousState.Name);
        Assert.Equal(48, (await WaitForStateAsync(client, id, InstanceStateName.Terminated)).State.Code);
    }

    private static async Task<Instance> DescribeAsync(AmazonEC2Client client, string id) =>
        Assert.Single(Assert.Single((await client.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [id] })).Reservations).Instances);

    [Fact]
    public async Task An_unknown_or_malformed_instance_id_is_the_sdks_exception_with_the_aws_code_and_status()
    {
        using var client = Client(ec2.MemberA);
        var cancel = TestContext.Current.CancellationToken;

        var unknown = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            client.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = ["i-0123456789abcdef0"] }, cancel));
        Assert.Equal("InvalidInstanceID.NotFound", unknown.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("i-0123456789abcdef0", unknown.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(unknown.RequestId));

        var malformed = await Assert.ThrowsAsync<AmazonEC2Exception>(() =>
            client.StopInstancesAsync(new StopInstancesRequest { InstanceIds = ["i-nothex"] }, cancel));
        Assert.Equal("InvalidInstanceID.Malformed", malformed.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);

        using var stranger = new AmazonEC2Client(new BasicAWSCredentials("AKIAUNKNOWNUNKNOWN00", new string('x', 40)),
            new AmazonEC2Config { ServiceURL = ec2.Endpoint, AuthenticationRegion = Ec2Cloud.Region, MaxErrorRetry = 0 });
        var refused = await Assert.ThrowsAsync<AmazonEC2Exception>(() => stranger.DescribeRegionsAsync(new DescribeRegionsRequest(), cancel));
        Assert.Equal("AuthFailure", refused.ErrorCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private static async Task<Instance> WaitForStateAsync(AmazonEC2Client client, string id, InstanceStateName state)
    {
        Instance? last = null;
        await Eventually.TrueAsync(async () =>
        {
            last = await DescribeAsync(client, id);
            Assert.True(Ec2Assert.StateCodes.ContainsKey(last.State.Name.Value), $"state {last.State.Name.Value} is none of the six");
            return last.State.Name == state;
        }, $"{id} {state.Value}", TimeSpan.FromSeconds(180), () => $"{last?.State.Name.Value} ({last?.StateReason?.Message})");
        return last!;
    }
}
