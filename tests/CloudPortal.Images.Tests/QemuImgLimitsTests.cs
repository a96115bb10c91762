using CloudPortal.Images.Inspection;
using Microsoft.Extensions.Options;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>
/// qemu-img runs under prlimit's address-space and CPU limits (ImagesOptions), against the real qemu-img and prlimit:
/// an image that needs more than they allow is refused as too complex, which an unreadable image is not.
/// </summary>
public sealed class QemuImgLimitsTests
{
    /// <summary>Between what an ordinary qcow2 needs (48 MiB) and what <see cref="TestImages.Qcow2WithHugeTables"/> needs (over 80 MiB).</summary>
    private const long SixtyFourMiB = 64L << 20;

    private static ImageInspector Inspector(ImagesOptions options) => new(new QemuImg(Options.Create(options)));

    [Fact]
    public async Task A_qcow2_whose_tables_need_more_memory_than_qemu_img_may_map_is_refused_as_too_complex()
    {
        using var images = TestImages.Create();
        var inspector = Inspector(new ImagesOptions { QemuImgInfoAddressSpace = SixtyFourMiB });

        // The same limit lets an ordinary image through.
        var ordinary = await inspector.InspectAsync(await images.Qcow2Async(), "qcow2", TestContext.Current.CancellationToken);
        Assert.Equal("qcow2", ordinary.Format);

        var refused = await Assert.ThrowsAsync<IntakeRefusedException>(() => inspector.InspectAsync(images.Qcow2WithHugeTables(), "qcow2", TestContext.Current.CancellationToken));
        Assert.Equal("image_too_complex", refused.Code);
        Assert.Contains("memory or CPU limit", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_qcow2_under_the_same_limits_is_invalid_not_too_complex()
    {
        using var images = TestImages.Create();
        var inspector = Inspector(new ImagesOptions { QemuImgInfoAddressSpace = SixtyFourMiB });

        var refused = await Assert.ThrowsAsync<IntakeRefusedException>(() => inspector.InspectAsync(images.Qcow2WithMisalignedL1Table(), "qcow2", TestContext.Current.CancellationToken));
        Assert.Equal("image_invalid", refused.Code);
        Assert.Contains("L1 table offset invalid", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_qemu_img_that_spins_past_its_cpu_limit_is_killed_and_the_image_refused_as_too_complex()
    {
        using var images = TestImages.Create();
        // A stand-in for qemu-img stuck in a loop on a crafted image: the kernel stops it at the CPU limit (SIGXCPU).
        var spinner = Script(images, "spin.sh", "while :; do :; done");
        var inspector = Inspector(new ImagesOptions { QemuImg = spinner, QemuImgInfoCpuSeconds = 1 });

        var qcow2 = await images.Qcow2Async();
        var refused = await Assert.ThrowsAsync<IntakeRefusedException>(() => inspector.InspectAsync(qcow2, "qcow2", TestContext.Current.CancellationToken));
        Assert.Equal("image_too_complex", refused.Code);
    }

    [Fact]
    public async Task A_qemu_img_that_blocks_past_the_inspect_timeout_is_killed_and_the_image_refused_as_too_complex()
    {
        using var images = TestImages.Create();
        // Uses no CPU (as qemu-img waiting on a stalled read would not), so only the wall-clock timeout stops it.
        var sleeper = Script(images, "sleep.sh", "exec sleep 600");
        var inspector = Inspector(new ImagesOptions { QemuImg = sleeper, InspectTimeout = TimeSpan.FromSeconds(1) });
        var qcow2 = await images.Qcow2Async();

        var refused = await Assert.ThrowsAsync<IntakeRefusedException>(() => inspector.InspectAsync(qcow2, "qcow2", TestContext.Current.CancellationToken));
        Assert.Equal("image_too_complex", refused.Code);
        Assert.Contains("in time", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_conversion_under_the_default_limits_reports_its_progress_in_order_up_to_100_percent()
    {
        using var images = TestImages.Create();
        var vmdk = await images.FullVmdkAsync();
        var target = images.Path("converted.qcow2");
        var reported = new List<int>();

        var result = await new QemuImg(Options.Create(new ImagesOptions())).ConvertAsync(vmdk, "vmdk", target, "qcow2",
            percent => { reported.Add(percent); return Task.CompletedTask; }, TestContext.Current.CancellationToken);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(0, reported[0]);
        Assert.Equal(100, reported[^1]);
        Assert.Contains(reported, p => p is > 0 and < 100);
        Assert.Equal(reported.Distinct().Order(), reported);   // each whole percentage once, rising
        Assert.True(File.Exists(target));
    }

    [Theory]
    [InlineData("    (12.50/100%)", 12)]
    [InlineData("(100.00/100%)", 100)]
    [InlineData("(0.00/100%)", 0)]
    [InlineData("qemu-img: error", null)]
    [InlineData("(150.00/100%)", null)]
    [InlineData("", null)]
    public void Progress_lines_are_read_as_whole_percentages(string line, int? percent) => Assert.Equal(percent, QemuImg.ParsePercent(line));

    [Fact]
    public async Task Info_and_convert_run_under_the_configured_limits_with_openstacks_defaults_for_info()
    {
        using var images = TestImages.Create();
        // Prints the limits it was started under (ulimit reports KiB and seconds).
        var reporter = Script(images, "limits.sh", "echo \"$(ulimit -v) $(ulimit -t)\"");
        var defaults = new QemuImg(Options.Create(new ImagesOptions { QemuImg = reporter }));
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal("1048576 30", (await defaults.InfoAsync("x", "qcow2", ct)).StandardOutput.Trim());
        Assert.Equal("2097152 7200", (await defaults.ConvertAsync("x", "raw", "y", "qcow2", null, ct)).StandardOutput.Trim());

        var configured = new QemuImg(Options.Create(new ImagesOptions { QemuImg = reporter, QemuImgInfoAddressSpace = 512L << 20, QemuImgInfoCpuSeconds = 5, ConvertAddressSpace = 3L << 30, ConvertCpuSeconds = 60 }));
        Assert.Equal("524288 5", (await configured.InfoAsync("x", "qcow2", ct)).StandardOutput.Trim());
        Assert.Equal("3145728 60", (await configured.ConvertAsync("x", "raw", "y", "qcow2", null, ct)).StandardOutput.Trim());
    }

    [Theory]
    [InlineData(137, "", true)]   // SIGKILL: the hard CPU limit
    [InlineData(152, "", true)]   // SIGXCPU: the soft CPU limit
    [InlineData(1, "qemu-img: Could not open 'x': Could not allocate L1 table", true)]
    [InlineData(1, "qemu-img: Could not open 'x': Could not initialize refcount handling: Cannot allocate memory", true)]
    [InlineData(134, "qemu: qemu_thread_create: Resource temporarily unavailable", true)]
    [InlineData(134, "qemu_memalign: failed to allocate 2097152 bytes at alignment 4096: Cannot allocate memory", true)]
    [InlineData(1, "qemu-img: Could not open 'x': Active L1 table offset invalid", false)]
    [InlineData(1, "qemu-img: Could not open 'x': Image is not in qcow2 format", false)]
    [InlineData(0, "", false)]
    public void A_failure_is_put_down_to_the_limits_only_for_a_limit_signal_or_an_allocation_failure(int exitCode, string stderr, bool exceeded) =>
        Assert.Equal(exceeded, new ProcessResult(exitCode, "", stderr).ExceededLimits);

    private static string Script(TestImages images, string name, string body)
    {
        var path = images.Path(name);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
