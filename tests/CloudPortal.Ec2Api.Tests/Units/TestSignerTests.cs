using System.Globalization;
using System.Text;
using System.Text.Json;
using CloudPortal.Ec2Api.Tests.Infrastructure;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Units;

/// <summary>
/// The security and fuzz tests trust <see cref="Ec2Signer"/> to sign validly (so their malformed requests reach the
/// parser): it must sign byte for byte as botocore does, the signer of boto3 and the AWS CLI.
/// </summary>
public sealed class TestSignerTests
{
    private static readonly AccessKey Key = new("AKIDCLOUDPORTALTEST", "test-secret/with+odd=chars", "test", Guid.Empty);
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 34, 56, TimeSpan.Zero);
    private const string Endpoint = "http://127.0.0.1:8788/ec2/";

    [Fact]
    public async Task The_test_signer_signs_a_POST_and_a_GET_exactly_as_botocore()
    {
        var signer = new Ec2Signer(new Uri(Endpoint));
        var body = Ec2Signer.Form("DescribeInstances", ("MaxResults", "10"), ("Filter.1.Name", "tag:Name"), ("Filter.1.Value.1", "a b/é"));
        const string query = "Action=DescribeRegions&Version=2016-11-15&RegionName.1=cp-1&Odd=a%20b%2Bc";
        var post = signer.Post(Key, body, At);
        var get = signer.Get(Key, query, At);

        var timestamp = At.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var cases = new object[]
        {
            new { name = "post", method = "POST", url = Endpoint, body, headers = new[] { new[] { "Content-Type", Ec2Signer.FormContentType } },
                access_key = Key.Id, secret = Key.Secret, service = "ec2", region = Ec2Cloud.Region, timestamp },
            new { name = "get", method = "GET", url = Endpoint + "?" + query, body = "", headers = Array.Empty<string[]>(),
                access_key = Key.Id, secret = Key.Secret, service = "ec2", region = Ec2Cloud.Region, timestamp },
        };
        var signed = await BotocoreAsync(JsonSerializer.Serialize(cases));

        Assert.Equal(Authorization(signed[0]), post.Headers.Single(h => h.Key == "Authorization").Value);
        Assert.Equal(Authorization(signed[1]), get.Headers.Single(h => h.Key == "Authorization").Value);
        Assert.Equal(Encoding.UTF8.GetBytes(body), post.Body);
    }

    private static string Authorization(JsonElement signed) =>
        signed.GetProperty("headers").EnumerateArray().Single(h => h[0].GetString() == "Authorization")[1].GetString()!;

    private static async Task<List<JsonElement>> BotocoreAsync(string cases)
    {
        if (!File.Exists(Boto3Scripts.Python))
            TestEnvironment.Unavailable("Debian's python3 at /usr/bin/python3", "apt-get install python3-boto3");
        var info = new System.Diagnostics.ProcessStartInfo(Boto3Scripts.Python, [Path.Combine(AppContext.BaseDirectory, "botocore_sign.py"), "cases"]);
        var result = await HermeticEnvironment.RunAsync(info, TimeSpan.FromMinutes(1), cases);
        if (result.ExitCode != 0 && result.StandardError.Contains("No module named", StringComparison.Ordinal))
            TestEnvironment.Unavailable("botocore for /usr/bin/python3", "apt-get install python3-boto3");
        Assert.True(result.ExitCode == 0, result.Output);
        return JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }
}
