using System.Text;
using System.Text.Json;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Cli;

/// <summary>
/// Debian's AWS CLI v2 against an all-in-one whose node boots the real guest under KVM: a member imports a key, finds the
/// guest image, launches it with tags, waits for it with the CLI's own waiter, reads the guest's line from the console,
/// stops, starts and terminates it. Dry runs and client tokens behave as AWS's do.
/// </summary>
public sealed class AwsCliTests(RealEc2Cloud ec2) : IClassFixture<RealEc2Cloud>
{
    [Fact]
    public async Task A_member_launches_reaches_stops_starts_and_terminates_a_real_guest_with_the_aws_cli()
    {
        var cli = new AwsCli(ec2.Endpoint, ec2.MemberA);
        var keyName = $"cli-key-{Guid.NewGuid():N}"[..20];
        var publicKey = Path.Combine(Path.GetTempPath(), $"{keyName}.pub");
        await File.WriteAllTextAsync(publicKey, OpenSshKey.NewRsaPublicKey() + "\n", TestContext.Current.CancellationToken);
        JsonElement imported;
        try
        {
            imported = await cli.OkAsync("import-key-pair", "--key-name", keyName, "--public-key-material", $"fileb://{publicKey}");
        }
        finally
        {
            File.Delete(publicKey);
        }
        Assert.Equal(keyName, imported.Str("KeyName"));
        Ec2Assert.KeyPairId(imported.Str("KeyPairId"));
        Assert.NotEmpty(imported.Str("KeyFingerprint"));

        var image = await FindImageAsync(cli, ec2.ImageName);
        var name = $"cli-guest-{ec2.Tenants.Suffix}";
        var run = await cli.OkAsync("run-instances", "--image-id", image, "--instance-type", "m1.tiny", "--key-name", keyName,
            "--placement", $"AvailabilityZone={Ec2Cloud.Zone}", "--user-data", "echo hello from the cli",
            "--tag-specifications", $"ResourceType=instance,Tags=[{{Key=Name,Value={name}}},{{Key=suite,Value=ec2-cli}}]");
        Ec2Assert.ReservationId(run.Str("ReservationId"));
        Assert.NotEmpty(run.Str("OwnerId"));
        var launched = run.At("Instances", 0);
        Assert.Equal(1, run.At("Instances").GetArrayLength());
        var id = launched.Str("InstanceId");
        Ec2Assert.InstanceId(id);
        Ec2Assert.State(launched.At("State"), "pending");
        Assert.Equal("m1.tiny", launched.Str("InstanceType"));
        Assert.Equal(image, launched.Str("ImageId"));
        Assert.Equal(keyName, launched.Str("KeyName"));
        Assert.Equal(Ec2Cloud.Zone, launched.Str("Placement", "AvailabilityZone"));

        // The CLI's own waiter, once (it polls every 15 s).
        await cli.OkAsync("wait", "instance-running", "--instance-ids", id);

        var described = await cli.OkAsync("describe-instances", "--instance-ids", id);
        Assert.Equal(1, described.At("Reservations").GetArrayLength());
        Assert.Equal(run.Str("ReservationId"), described.Str("Reservations", 0, "ReservationId"));
        var instance = described.At("Reservations", 0, "Instances", 0);
        Assert.Equal(id, instance.Str("InstanceId"));
        Ec2Assert.State(instance.At("State"), "running");
        var tags = Ec2Assert.Tags(instance.At("Tags"));
        Assert.Equal(name, tags.GetValueOrDefault("Name"));
        Assert.Equal("ec2-cli", tags.GetValueOrDefault("suite"));
        Assert.Equal(keyName, instance.Str("KeyName"));
        Assert.Equal("m1.tiny", instance.Str("InstanceType"));
        Assert.Equal(Ec2Cloud.Zone, instance.Str("Placement", "AvailabilityZone"));
        Assert.True(DateTimeOffset.TryParse(instance.Str("LaunchTime"), out _), $"LaunchTime: {instance.Str("LaunchTime")}");

        var byTag = await cli.OkAsync("describe-instances", "--filters", $"Name=tag:Name,Values={name}", "Name=instance-state-name,Values=running");
        Assert.Equal([id], InstanceIds(byTag));
        var userData = await cli.OkAsync("describe-instance-attribute", "--instance-id", id, "--attribute", "userData");
        Assert.Equal("echo hello from the cli", Encoding.UTF8.GetString(Convert.FromBase64String(userData.Str("UserData", "Value"))));

        // The guest's own line, through GetConsoleOutput (the CLI decodes the base64 output).
        var console = "";
        await Eventually.TrueAsync(async () =>
        {
            var output = await cli.OkAsync("get-console-output", "--instance-id", id);
            Assert.Equal(id, output.Str("InstanceId"));
            console = output.TryGetProperty("Output", out var text) ? text.GetString() ?? "" : "";
            return console.Contains(GuestImage.Message, StringComparison.Ordinal);
        }, $"'{GuestImage.Message}' in the console output of {id}", TimeSpan.FromSeconds(120), () => console);

        var stopping = await cli.OkAsync("stop-instances", "--instance-ids", id);
        Assert.Equal(id, stopping.Str("StoppingInstances", 0, "InstanceId"));
        Ec2Assert.State(stopping.At("StoppingInstances", 0, "PreviousState"), "running");
        Ec2Assert.State(stopping.At("StoppingInstances", 0, "CurrentState"), "stopping", "stopped");
        await Boto3Scripts.WaitAsync(ec2, ec2.MemberA, "instance_stopped", id);
        Ec2Assert.State((await cli.OkAsync("describe-instances", "--instance-ids", id)).At("Reservations", 0, "Instances", 0, "State"), "stopped");

        var starting = await cli.OkAsync("start-instances", "--instance-ids", id);
        Ec2Assert.State(starting.At("StartingInstances", 0, "PreviousState"), "stopped");
        Ec2Assert.State(starting.At("StartingInstances", 0, "CurrentState"), "pending", "running");
        await Boto3Scripts.WaitAsync(ec2, ec2.MemberA, "instance_running", id);

        var terminating = await cli.OkAsync("terminate-instances", "--instance-ids", id);
        Assert.Equal(id, terminating.Str("TerminatingInstances", 0, "InstanceId"));
        Ec2Assert.State(terminating.At("TerminatingInstances", 0, "CurrentState"), "shutting-down", "terminated");
        await Boto3Scripts.WaitAsync(ec2, ec2.MemberA, "instance_terminated", id);

        // Terminated instances stay visible (the instance-terminated waiter depends on it).
        var gone = await cli.OkAsync("describe-instances", "--instance-ids", id);
        Ec2Assert.State(gone.At("Reservations", 0, "Instances", 0, "State"), "terminated");
    }

    [Fact]
    public async Task A_dry_run_answers_DryRunOperation_to_a_member_and_UnauthorizedOperation_to_a_reader_and_launches_nothing()
    {
        var member = new AwsCli(ec2.Endpoint, ec2.MemberA);
        var reader = new AwsCli(ec2.Endpoint, ec2.ReaderA);
        var image = await FindImageAsync(member, ec2.ImageName);
        var marker = Guid.NewGuid().ToString("N");
        string[] run = ["run-instances", "--dry-run", "--image-id", image, "--instance-type", Ec2Cloud.Nano,
            "--tag-specifications", $"ResourceType=instance,Tags=[{{Key=dryrun,Value={marker}}}]"];

        var would = await member.FailsWithAsync("DryRunOperation", run);
        Assert.Contains("Request would have succeeded, but DryRun flag is set", would.StandardError, StringComparison.Ordinal);
        await reader.FailsWithAsync("UnauthorizedOperation", run);
        // A reader may describe: its dry run of a read would succeed.
        await reader.FailsWithAsync("DryRunOperation", "describe-instances", "--dry-run");

        var found = await member.OkAsync("describe-instances", "--filters", $"Name=tag:dryrun,Values={marker}");
        Assert.Empty(InstanceIds(found));
    }

    [Fact]
    public async Task One_client_token_sent_twice_makes_one_reservation_with_the_same_ids()
    {
        var cli = new AwsCli(ec2.Endpoint, ec2.MemberA);
        var image = await FindImageAsync(cli, ec2.ImageName);
        var token = $"cli-token-{Guid.NewGuid():N}";
        string[] run = ["run-instances", "--image-id", image, "--instance-type", Ec2Cloud.Nano, "--client-token", token];

        var before = InstanceIds(await cli.OkAsync("describe-instances"));
        var first = await cli.OkAsync(run);
        var second = await cli.OkAsync(run);
        var id = first.Str("Instances", 0, "InstanceId");
        Assert.Equal(first.Str("ReservationId"), second.Str("ReservationId"));
        Assert.Equal(id, second.Str("Instances", 0, "InstanceId"));
        Assert.Equal(1, second.At("Instances").GetArrayLength());

        // One instance more in the project, not two.
        Assert.Equal([id], InstanceIds(await cli.OkAsync("describe-instances")).Except(before).ToList());

        await Boto3Scripts.WaitAsync(ec2, ec2.MemberA, "instance_running", id);
        await cli.OkAsync("terminate-instances", "--instance-ids", id);
        await Boto3Scripts.WaitAsync(ec2, ec2.MemberA, "instance_terminated", id);
    }

    /// <summary>The ami- id of a launchable image of the caller's project, by name.</summary>
    internal static async Task<string> FindImageAsync(AwsCli cli, string name)
    {
        var images = await cli.OkAsync("describe-images", "--owners", "self", "--filters", $"Name=name,Values={name}");
        Assert.True(images.At("Images").GetArrayLength() == 1, $"one image named {name}: {images}");
        var image = images.At("Images", 0);
        Ec2Assert.ImageId(image.Str("ImageId"));
        Assert.Equal(name, image.Str("Name"));
        Assert.Equal("available", image.Str("State"));
        return image.Str("ImageId");
    }

    private static List<string> InstanceIds(JsonElement describe) =>
        describe.At("Reservations").EnumerateArray().SelectMany(r => r.At("Instances").EnumerateArray()).Select(i => i.Str("InstanceId")).ToList();
}
