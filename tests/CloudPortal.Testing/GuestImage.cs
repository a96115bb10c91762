using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Xunit;

namespace CloudPortal.Testing;

/// <summary>
/// The real guest of TESTING.md, made without downloading anything: a 1 MiB disk whose boot sector writes one line to
/// the first serial port and halts. It boots under KVM and TCG from a virtio disk; a test that launches it and reads
/// the line from the console log has proven catalog → agent cache → overlay → libvirt → QEMU → guest → console.
/// The one builder of it for every test project.
/// </summary>
public static class GuestImage
{
    public const string Message = "CLOUDPORTAL-GUEST-OK";

    /// <summary>The size of <see cref="Raw"/> (and the virtual size of <see cref="Qcow2"/>).</summary>
    public const int RawBytes = 1 << 20;

    private static readonly Lazy<byte[]> CachedQcow2 = new(MakeQcow2);

    // xor ax,ax; mov ds,ax; mov dx,0x3f8; mov si,0x7c15; lodsb; test al,al; jz +3; out dx,al; jmp -8; hlt; jmp -3
    private static readonly byte[] Program =
        [0x31, 0xC0, 0x8E, 0xD8, 0xBA, 0xF8, 0x03, 0xBE, 0x15, 0x7C, 0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF8, 0xF4, 0xEB, 0xFD];

    /// <summary>The raw 1 MiB disk.</summary>
    public static byte[] Raw(string message = Message)
    {
        var disk = new byte[RawBytes];
        Program.CopyTo(disk, 0);
        Encoding.ASCII.GetBytes(message + "\r\n\0").CopyTo(disk, 0x15);
        disk[0x1FE] = 0x55;
        disk[0x1FF] = 0xAA;
        // Some non-zero data beyond the boot sector (which never reads it), so conversions have something to carry.
        for (var i = 4096; i < 8192; i++)
            disk[i] = (byte)(i * 7);
        return disk;
    }

    /// <summary>The same disk as qcow2 (qemu-img convert), made once per test process.</summary>
    public static byte[] Qcow2() => CachedQcow2.Value;

    /// <summary>
    /// Creates an image through Images' API (<paramref name="images"/> acts in the project), uploads the guest as
    /// <paramref name="diskFormat"/> (<c>qcow2</c> or <c>raw</c>) and waits until it is active.
    /// </summary>
    public static async Task<Guid> UploadAsync(HttpClient images, string name = "guest", string diskFormat = "qcow2")
    {
        ArgumentNullException.ThrowIfNull(images);
        using var created = await images.PostAsJsonAsync("images/v2/images", new { name, diskFormat });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create image: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var content = new ByteArrayContent(diskFormat == "raw" ? Raw() : Qcow2());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var uploaded = await images.PutAsync($"images/v2/images/{id}/file", content);
        Assert.True(uploaded.IsSuccessStatusCode, $"upload: {(int)uploaded.StatusCode} {await uploaded.Content.ReadAsStringAsync()}");
        await Eventually.TrueAsync(async () => (await images.GetFromJsonAsync<JsonElement>($"images/v2/images/{id}")).GetProperty("status").GetString() == "active",
            $"image {id} active");
        return id;
    }

    private static byte[] MakeQcow2()
    {
        if (!File.Exists("/usr/bin/qemu-img"))
            TestEnvironment.Unavailable("qemu-img", "not installed; apt-get install qemu-utils");
        var directory = Directory.CreateTempSubdirectory("cp-guest-").FullName;
        try
        {
            var raw = Path.Combine(directory, "guest.raw");
            var qcow2 = Path.Combine(directory, "guest.qcow2");
            File.WriteAllBytes(raw, Raw());
            // Blocking is fine here: this runs once, inside a Lazy, off any test's synchronization context.
            var result = ChildProcess.RunAsync("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2], TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
            if (result.ExitCode != 0)
                throw new InvalidOperationException($"qemu-img convert failed: {result.StandardError}");
            return File.ReadAllBytes(qcow2);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
