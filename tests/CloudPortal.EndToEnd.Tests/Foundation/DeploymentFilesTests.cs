using System.Diagnostics;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

public sealed class DeploymentFilesTests
{
    [Fact]
    public async Task Compose_file_is_valid_and_runs_every_module_from_one_image()
    {
        if (!File.Exists("/usr/bin/docker-compose"))
            TestEnvironment.Unavailable("docker-compose", "install the docker-compose package");
        var info = new ProcessStartInfo("docker-compose", ["-f", "docker-compose.yml", "config"]) { WorkingDirectory = TestEnvironment.RepositoryRoot };
        var compose = await ChildProcess.RunAsync(info, TimeSpan.FromSeconds(60));
        var output = compose.StandardOutput;

        Assert.True(compose.ExitCode == 0, compose.StandardError);
        foreach (var module in new[] { "identity", "compute", "scheduler", "images", "block-storage", "network", "portal", "ec2-api" })
            Assert.Contains($"- {module}", output, StringComparison.Ordinal);
        Assert.Contains("dockerfile: deploy/Dockerfile", output, StringComparison.Ordinal);
        Assert.Contains("- agent", output, StringComparison.Ordinal);
    }
}
