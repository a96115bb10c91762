using CloudPortal.Ec2Api.Tests.Infrastructure;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Fuzz;

/// <summary>
/// 1,000 malformed requests from a fixed seed (<see cref="MalformedRequests"/>): every answer is AWS error XML with a
/// 4xx status — never a 5xx, never an HTML or empty page, never a dropped connection — and the cloud process is still
/// up and answering DescribeRegions afterwards.
/// </summary>
public sealed class FuzzTests(SimulatedEc2Cloud ec2) : IClassFixture<SimulatedEc2Cloud>
{
    private const int Seed = 20261201;
    private const int Count = 1000;

    [Fact]
    public async Task A_thousand_seeded_malformed_requests_each_get_aws_error_xml_with_a_4xx_and_the_process_stays_up()
    {
        var image = await ec2.ImageIdAsync(ec2.ImageName);
        var generator = new MalformedRequests(ec2.Signer, ec2.MemberA, image, new Random(Seed));
        var failures = new List<string>();
        var byCategory = new SortedDictionary<string, SortedDictionary<string, int>>(StringComparer.Ordinal);

        for (var i = 0; i < Count; i++)
        {
            var fuzz = generator.Next(i);
            string outcome;
            try
            {
                var answer = Ec2Answer.Of(await fuzz.Request.SendAsync(ec2.EndpointUri));
                outcome = $"{answer.Status} {answer.ErrorCode ?? "(no AWS error)"}";
                var contentType = answer.Response.Header("Content-Type") ?? "";
                if (answer.Status is < 400 or > 499 || !answer.IsErrorXml || !contentType.Contains("xml", StringComparison.OrdinalIgnoreCase))
                    failures.Add($"#{i} {fuzz.Category}: {fuzz.Request.Describe()}\n    → {answer} (Content-Type: {contentType})");
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
            {
                outcome = "no answer";
                failures.Add($"#{i} {fuzz.Category}: {fuzz.Request.Describe()}\n    → no answer: {e.Message}");
            }
            var codes = byCategory.TryGetValue(fuzz.Category, out var existing) ? existing : byCategory[fuzz.Category] = new(StringComparer.Ordinal);
            codes[outcome] = codes.GetValueOrDefault(outcome) + 1;
        }

        TestContext.Current.TestOutputHelper?.WriteLine("fuzz answers by category:\n" + string.Join('\n',
            byCategory.Select(c => $"  {c.Key}: {string.Join(", ", c.Value.Select(o => $"{o.Key} ×{o.Value}"))}")));

        // Still up: the process did not exit, and a correct request is answered.
        Assert.False(ec2.Cloud.IdentityProcess.HasExited, $"the cloud process exited:\n{ec2.Cloud.IdentityProcess.Output[^Math.Min(4000, ec2.Cloud.IdentityProcess.Output.Length)..]}");
        var regions = await ec2.Query(ec2.MemberA).OkAsync("DescribeRegions");
        Assert.Contains(Ec2Cloud.Region, regions.Values("regionName"));

        Assert.True(failures.Count == 0, $"{failures.Count} of {Count} malformed requests were not answered with a 4xx AWS error (first 40):\n"
            + string.Join('\n', failures.Take(40)) + "\nthe cloud's log, around its first exceptions:\n" + Exceptions(ec2.Cloud.IdentityProcess.Output));
    }

    /// <summary>The first few exceptions the cloud logged, a few lines each.</summary>
    private static string Exceptions(string log)
    {
        var lines = log.Split('\n');
        var picked = new List<string>();
        for (var i = 0; i < lines.Length && picked.Count < 60; i++)
        {
            if (!lines[i].Contains("Exception", StringComparison.Ordinal))
                continue;
            picked.AddRange(lines.Skip(Math.Max(0, i - 2)).Take(10));
            picked.Add("  …");
            i += 40;
        }
        return string.Join('\n', picked);
    }
}
