using System.Globalization;
using System.Text.RegularExpressions;
using CloudPortal.Testing;

namespace CloudPortal.Bench.Ec2;

/// <summary>One request as the server's log has it: its status and ASP.NET Core's elapsed time (request start to response end).</summary>
internal sealed record ServerRequest(int Status, double Milliseconds);

/// <summary>
/// CloudPortal's own account of each EC2 request: ASP.NET Core's hosting log line "Request finished HTTP/1.1 POST
/// http://host/ec2/ - 200 ... 3.1415ms" (category Microsoft.AspNetCore.Hosting.Diagnostics at Information, which the
/// bench turns on). Lines are in the order requests finished; a phase's lines are those its driver made, after the ones
/// it made before measuring (DescribeImages, warm-up calls: all finished before the measured calls start).
/// </summary>
internal sealed partial class RequestLog(CloudPortalProcess process, string pathPrefix)
{
    /// <summary>The environment that turns the lines on.</summary>
    public static readonly KeyValuePair<string, string?> Setting = new("Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics", "Information");

    /// <summary>Where the next phase's lines start.</summary>
    public int Mark() => process.Output.Length;

    /// <summary>
    /// The requests after <paramref name="mark"/>, less the first <paramref name="skip"/>; waits (up to 5 s: the console
    /// logger writes from a queue) until there are <paramref name="skip"/> + <paramref name="expected"/>.
    /// </summary>
    public async Task<List<ServerRequest>> TakeAsync(int mark, int skip, int expected)
    {
        var requests = new List<ServerRequest>();
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5); ; await Task.Delay(100))
        {
            requests = Parse(process.Output[mark..]);
            if (requests.Count >= skip + expected || DateTime.UtcNow > deadline)
                return requests.Skip(skip).ToList();
        }
    }

    private List<ServerRequest> Parse(string output)
    {
        var requests = new List<ServerRequest>();
        foreach (Match match in FinishedLine().Matches(output))
        {
            if (new Uri(match.Groups["url"].Value).AbsolutePath.StartsWith(pathPrefix, StringComparison.Ordinal))
                requests.Add(new ServerRequest(int.Parse(match.Groups["status"].Value, CultureInfo.InvariantCulture),
                    double.Parse(match.Groups["ms"].Value, CultureInfo.InvariantCulture)));
        }
        return requests;
    }

    [GeneratedRegex(@"Request finished HTTP/\S+ \w+ (?<url>\S+) - (?<status>\d{3}) .*?(?<ms>[0-9]+(\.[0-9]+)?)ms\s*$", RegexOptions.Multiline)]
    private static partial Regex FinishedLine();
}
