using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>Plain HTTP only on loopback unless the operator says --insecure-http (docs/operations.md#tls).</summary>
public sealed class TransportSecurityTests
{
    [Theory]
    [InlineData("http://0.0.0.0:{0}")]
    [InlineData("http://127.0.0.1:{1};http://*:{0}")]
    public async Task Plain_http_on_an_address_other_machines_reach_is_refused_at_start(string urls)
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var listen = string.Format(System.Globalization.CultureInfo.InvariantCulture, urls, FreePort.Next(), FreePort.Next());

        var result = await CloudPortalProcess.RunAsync(["serve", "scheduler", "--urls", listen, "--data-dir", deployment.DataDir], deployment.Environment());

        Assert.True(result.ExitCode == 2, result.Output);
        var error = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("cloudportal: error: plain HTTP on http://", error, StringComparison.Ordinal);
        Assert.Contains("--insecure-http", error, StringComparison.Ordinal);
        Assert.Contains("https://", error, StringComparison.Ordinal);
        Assert.DoesNotContain("http://127.0.0.1", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(deployment.DataDir, "scheduler.db")), "refused before anything was created");
    }

    [Fact]
    public async Task With_insecure_http_it_listens_on_every_interface_and_warns_once()
    {
        if (!File.Exists("/usr/bin/unshare"))
            TestEnvironment.Unavailable("unshare", "util-linux is not installed");
        await using var deployment = await Deployment.AllInOneAsync();

        // Its own network namespace (only a loopback device): every interface there is this test's own.
        await using var process = CloudPortalProcess.StartUnder(["unshare", "--net", "--"],
            ["serve", "scheduler", "--insecure-http", "--urls", "http://0.0.0.0:8080", "--data-dir", deployment.DataDir], deployment.Environment());

        await CloudPortal.Testing.Eventually.TrueAsync(() => Task.FromResult(process.HasExited || process.Output.Contains("Application started", StringComparison.Ordinal)),
            "the scheduler started", CloudPortalProcess.ReadyTimeout, () => process.Output);
        Assert.False(process.HasExited, process.Output);
        Assert.Contains("Now listening on: http://0.0.0.0:8080", process.Output, StringComparison.Ordinal);
        var warnings = process.Output.Split('\n').Where(l => l.Contains("INSECURE: --insecure-http is set", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count == 1, process.Output);
        Assert.Contains("unencrypted on http://0.0.0.0:8080", warnings[0], StringComparison.Ordinal);
    }
}
