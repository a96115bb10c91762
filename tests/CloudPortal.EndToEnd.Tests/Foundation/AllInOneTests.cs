using System.Net;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

public sealed class AllInOneTests
{
    [Fact]
    public async Task All_in_one_becomes_ready_on_a_fresh_data_directory_and_admin_hosts_lists_the_local_node()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], deployment.Environment());

        await cloud.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        var hosts = await Eventually.OutputAsync(["admin", "hosts", "--data-dir", deployment.DataDir], deployment.Environment(),
            output => output.Contains(Environment.MachineName, StringComparison.Ordinal));
        var line = hosts.Split('\n').Single(l => l.StartsWith(Environment.MachineName + " ", StringComparison.Ordinal));
        Assert.Contains(" up ", line, StringComparison.Ordinal);
        Assert.Matches(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", line);
        foreach (var module in new[] { "identity", "compute", "scheduler", "images", "block-storage", "network" })
            Assert.True(File.Exists(Path.Combine(deployment.DataDir, $"{module}.db")), $"{module}.db missing in the data directory");
        // A newcomer's first screen is about CloudPortal: the job runner's storage chatter stays below Warning.
        Assert.DoesNotContain("info: Hangfire", cloud.Output, StringComparison.Ordinal);
        // ... and so is OpenIddict's account of every discovery request, and Data Protection's warning that its key
        // ring is stored unencrypted (it is in identity.db, which only the owner reads).
        Assert.DoesNotContain("info: OpenIddict", cloud.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warn: Microsoft.AspNetCore.DataProtection", cloud.Output, StringComparison.Ordinal);
        Assert.Contains("info: CloudPortal", cloud.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_reports_every_module_database_and_the_bus()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var cloud = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], deployment.Environment());
        await cloud.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var ready = await http.GetStringAsync("/health/ready");
        foreach (var check in new[] { "identity-database", "scheduler-database", "block-storage-database", "masstransit-bus", "portal-identity" })
            Assert.Contains($"\"{check}\":{{\"status\":\"Healthy\"", ready, StringComparison.Ordinal);
        using var live = await http.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var unknown = await http.GetAsync("/no-such-endpoint");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_config_file_overrides_appsettings_and_the_environment_overrides_the_file()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var fromFile = deployment.NewDirectory();
        var fromEnvironment = deployment.NewDirectory();
        var file = Path.Combine(deployment.NewDirectory(), "cloudportal.json");
        await File.WriteAllTextAsync(file, $$"""{ "CloudPortal": { "DataDir": "{{fromFile}}" } }""");

        var migrated = await CloudPortalProcess.RunAsync(["admin", "migrate", "scheduler", "--config", file], deployment.Environment());
        Assert.True(migrated.ExitCode == 0, migrated.Output);
        Assert.True(File.Exists(Path.Combine(fromFile, "scheduler.db")), "the file's DataDir beats appsettings.json");
        Assert.Contains("1 module database(s) up to date", migrated.StandardOutput, StringComparison.Ordinal);

        var environment = deployment.Environment();
        environment["CloudPortal__DataDir"] = fromEnvironment;
        migrated = await CloudPortalProcess.RunAsync(["admin", "migrate", "scheduler", "--config", file], environment);
        Assert.True(migrated.ExitCode == 0, migrated.Output);
        Assert.True(File.Exists(Path.Combine(fromEnvironment, "scheduler.db")), "the environment beats the file");
    }

    [Fact]
    public async Task Admin_hosts_on_a_data_directory_that_never_ran_says_so_and_creates_nothing()
    {
        await using var deployment = await Deployment.AllInOneAsync();

        var result = await CloudPortalProcess.RunAsync(["admin", "hosts", "--data-dir", deployment.DataDir], deployment.Environment());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no scheduler database", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(deployment.DataDir, "scheduler.db")));
    }
}
