using System.Diagnostics;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.EndToEnd.Tests.Foundation;

/// <summary>
/// The data directory holds password hashes, the Data Protection key ring, signing keys, client secrets and tenants'
/// images: nobody but its owner reads any of it (docs/operations.md#data-directory).
/// </summary>
public sealed class DataDirectoryPermissionsTests
{
    private const UnixFileMode GroupOrOther = (UnixFileMode)0b000_111_111;
    private const UnixFileMode OwnerOnlyDirectory = (UnixFileMode)0b111_000_000;   // 0700
    private const UnixFileMode OwnerOnlyFile = (UnixFileMode)0b110_000_000;        // 0600
    private const UnixFileMode QemuPassThrough = (UnixFileMode)0b111_001_001;      // 0711

    [Fact]
    public async Task An_all_in_one_that_stored_an_image_keeps_every_file_to_its_owner()
    {
        await using var cloud = await TestCloud.StartAsync("all-in-one");
        var tenants = await Tenants.CreateAsync(cloud);
        using var images = OidcClient.Api(cloud.ImagesUrl, tenants.Token("memberA"), tenants.ProjectA);
        await GuestImage.UploadAsync(images);
        var dataDir = cloud.Deployment.DataDir;

        // The all-in-one hosts the compute agent: QEMU, which may run as another user, passes through the data
        // directory to the agent's libvirt directories, and nowhere else.
        var qemuWay = new[] { dataDir, Path.Combine(dataDir, "image-cache"), Path.Combine(dataDir, "instances"), Path.Combine(dataDir, "consoles") };
        Assert.Equal(QemuPassThrough, File.GetUnixFileMode(dataDir));
        var entries = Directory.EnumerateFileSystemEntries(dataDir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).ToList();
        Assert.Contains(entries, e => e.StartsWith(Path.Combine(dataDir, "images") + "/", StringComparison.Ordinal) && File.Exists(e));
        Assert.Contains(Path.Combine(dataDir, "identity.db"), entries);
        foreach (var entry in entries)
        {
            var mode = File.GetUnixFileMode(entry);
            if (Directory.Exists(entry) && qemuWay.Contains(entry))
                Assert.True(mode == QemuPassThrough, $"{entry} is {mode}");
            else
                Assert.True((mode & GroupOrOther) == 0, $"{entry} is readable or writable by others: {mode}");
        }

        var asNobody = await RunAsync("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", Path.Combine(dataDir, "identity.db"));
        Assert.NotEqual(0, asNobody.ExitCode);
        Assert.Contains("Permission denied", asNobody.StandardError, StringComparison.Ordinal);
        var listing = await RunAsync("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "ls", dataDir);
        Assert.NotEqual(0, listing.ExitCode);
        Assert.Contains("Permission denied", listing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_directory_made_world_readable_before_is_tightened_on_start_with_one_log_line()
    {
        await using var deployment = await Deployment.AllInOneAsync();
        var dataDir = deployment.DataDir;
        var secrets = Path.Combine(dataDir, "old");
        Directory.CreateDirectory(secrets);
        File.WriteAllText(Path.Combine(dataDir, "service-client-secret"), "s3cret");
        File.WriteAllText(Path.Combine(secrets, "notes.txt"), "x");
        File.SetUnixFileMode(dataDir, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(secrets, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(dataDir, "service-client-secret"), (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(Path.Combine(secrets, "notes.txt"), (UnixFileMode)0b110_100_100);

        var url = $"http://127.0.0.1:{FreePort.Next()}";
        await using var process = CloudPortalProcess.Start(["serve", "scheduler", "--urls", url, "--data-dir", dataDir], deployment.Environment());
        await process.WaitUntilReadyAsync(url, CloudPortalProcess.ReadyTimeout);

        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(dataDir));
        Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(secrets));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(dataDir, "service-client-secret")));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(secrets, "notes.txt")));
        Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(Path.Combine(dataDir, "scheduler.db")));
        var lines = process.Output.Split('\n').Where(l => l.Contains("took group and other permissions off", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1, process.Output);
        Assert.Contains($"Data directory {dataDir}: took group and other permissions off 4 entries", process.Output, StringComparison.Ordinal);
        // Loopback needs no TLS and no flag, and draws no warning.
        Assert.DoesNotContain("INSECURE", process.Output, StringComparison.Ordinal);
    }

    private static async Task<CommandResult> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }
}
