using System.Net.Http.Json;
using CloudPortal.Testing;
using Microsoft.Data.Sqlite;
using Xunit;
using static CloudPortal.Images.Tests.ImagesHelpers;

namespace CloudPortal.Images.Tests;

/// <summary>
/// An import or a conversion whose job is gone (its process died, or the database committed and the enqueue never
/// happened) is found by the reaper, enqueued again and finished. The states are made the way a crash leaves them: by
/// writing the image's row directly, as the process would have committed it.
/// </summary>
public sealed class JobRecoveryTests
{
    // A one-second heartbeat: the reaper looks every second, and work silent for ten seconds counts as lost.
    private static readonly Dictionary<string, string?> FastReaper = new() { ["CloudPortal__Images__UploadHeartbeat"] = "00:00:01" };

    [Fact]
    public async Task A_conversion_and_an_import_whose_jobs_were_lost_are_resumed_and_finish()
    {
        using var images = TestImages.Create();
        await using var cloud = await TestCloud.StartAsync("all-in-one", FastReaper);
        var tenants = await Tenants.CreateAsync(cloud);
        using var admin = Api(cloud, tenants.AdminToken);
        using var member = Api(cloud, tenants.Token("memberA"), tenants.ProjectA);
        var vmdk = await File.ReadAllBytesAsync(await images.VmdkAsync());
        var qcow2 = await File.ReadAllBytesAsync(await images.Qcow2Async());

        // VMDK data stored and committed as "convert me", but the conversion job never enqueued.
        var converted = await CreateAsync(member, new { name = "converted", diskFormat = "vmdk" });
        await UploadOkAsync(member, converted, vmdk);
        await WaitForStatusAsync(member, converted, "active");
        await UpdateRowAsync(cloud, converted,
            "Status = 'Saving', ConversionState = 'pending', ComputeFormat = NULL, ComputeSizeBytes = NULL, ComputeSha256 = NULL");
        Assert.Equal("saving", (await ShowAsync(member, converted)).GetProperty("status").GetString());

        // An import recorded as started whose job never ran.
        await using var server = await ImageHttpServer.StartAsync("127.0.0.1");
        server.Serve("/boot.qcow2", qcow2);
        (await admin.PutAsync("images/v2/import-allowed-hosts/127.0.0.1", null)).EnsureSuccessStatusCode();
        var imported = await CreateAsync(member, new { name = "imported", diskFormat = "qcow2" });
        await UpdateRowAsync(cloud, imported, $"Status = 'Saving', ImportUrl = '{server.BaseUrl}/boot.qcow2', ImportBytes = 0, ImportAttempts = 0");

        var again = await WaitForStatusAsync(member, converted, "active");
        Assert.Equal("qcow2", again.GetProperty("compute").GetProperty("format").GetString());
        Assert.Equal(Sha256(vmdk), again.GetProperty("sha256").GetString());   // the original checksum stays
        var arrived = await WaitForStatusAsync(member, imported, "active");
        Assert.Equal(Sha256(qcow2), arrived.GetProperty("sha256").GetString());
        Assert.Equal(qcow2, await member.GetByteArrayAsync($"images/v2/images/{imported}/file"));
        Assert.Equal(2, cloud.IdentityProcess.Output.Split('\n').Count(l => l.Contains("had no live job: enqueued it again", StringComparison.Ordinal)));
    }

    /// <summary>Writes the image's row as a crashed process would have left it, with its last activity long ago.</summary>
    private static async Task UpdateRowAsync(TestCloud cloud, Guid image, string assignments)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(cloud.ImagesDataDir, "images.db")};Default Timeout=30");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"UPDATE images SET {assignments}, UpdatedAt = '2000-01-01 00:00:00', JobLeaseUntil = NULL, JobLeaseHolder = NULL WHERE upper(Id) = upper($id)";
        command.Parameters.AddWithValue("$id", image.ToString());
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
        SqliteConnection.ClearPool(connection);
    }
}
