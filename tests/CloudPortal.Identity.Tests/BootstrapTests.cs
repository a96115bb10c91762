using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Identity.Tests;

public sealed class BootstrapTests
{
    [Fact]
    public async Task First_start_creates_the_cloud_admin_once_with_a_random_password_only_its_owner_can_read()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var passwordFile = Path.Combine(deployment.DataDir, "admin-password");
        string password;
        await using (var first = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], deployment.Environment()))
        {
            await first.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);
            password = (await File.ReadAllTextAsync(passwordFile)).Trim();
            Assert.True(password.Length >= 20, "the password is long and random");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(deployment.DataDir, "service-client-secret")));
            Assert.Contains(password, first.Output, StringComparison.Ordinal);
            await first.StopAsync();
        }

        await using var second = CloudPortalProcess.Start(["all-in-one", "--urls", url, "--data-dir", deployment.DataDir], deployment.Environment());
        await second.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);
        Assert.DoesNotContain(password, second.Output, StringComparison.Ordinal);
        Assert.Equal(password, (await File.ReadAllTextAsync(passwordFile)).Trim());
        await new OidcClient(url).SignInAsync("admin", password);

        var again = await CloudPortalProcess.RunAsync(["admin", "bootstrap", "--data-dir", deployment.DataDir], deployment.Environment());
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already exists", again.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_clouds_never_share_an_admin_password()
    {
        await using var one = await TestCloud.StartAsync("all-in-one");
        await using var two = await TestCloud.StartAsync("all-in-one");
        Assert.NotEqual(one.AdminPassword, two.AdminPassword);
    }
}
