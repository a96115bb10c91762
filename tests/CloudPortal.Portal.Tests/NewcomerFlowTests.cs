using System.Security.Cryptography;
using CloudPortal.Testing;
using Microsoft.Playwright;
using Xunit;

namespace CloudPortal.Portal.Tests;

/// <summary>
/// The path a newcomer judges the product by, in a real browser against a real all-in-one on real libvirt/KVM: the
/// admin sets up a project and a member, the member uploads the TESTING.md guest, launches two, watches them turn
/// active without a reload, reads the guest's line, sees its screen, runs into the quota, drives an instance; the
/// admin raises the quota and disables the only host, and the wizard says so before the click.
/// </summary>
public sealed class NewcomerFlowTests(PortalBrowser browser) : IClassFixture<PortalBrowser>
{
    private const string Test = "newcomer";
    private const string Member = "alice";
    private const string MemberPassword = "correct horse battery staple";

    private static readonly Dictionary<string, string?> FastAgent = new()
    {
        // The boot-sector guest never answers the ACPI button: a clean stop waits this long, then pulls the plug.
        ["CloudPortal__Agent__StopTimeout"] = "00:00:03",
        ["CloudPortal__Agent__ReportInterval"] = "00:00:03",
    };

    /// <summary>All six steps all-in-one; steps 1 to 3 distributed (portal, identity, compute, scheduler and images as processes of their own over RabbitMQ and PostgreSQL, plus an agent).</summary>
    [Theory]
    [InlineData("all-in-one")]
    [InlineData("distributed")]
    public async Task A_newcomer_signs_in_uploads_launches_watches_and_reaches_a_guest(string mode)
    {
        var test = $"{Test}-{mode}";
        await using var cloud = await TestCloud.StartAsync(mode, FastAgent);
        try
        {
            await FlowAsync(cloud, mode, test);
        }
        catch
        {
            await browser.KeepFailureAsync(test);
            await PortalBrowser.KeepLogsAsync(cloud, test);
            throw;
        }
    }

    private async Task FlowAsync(TestCloud cloud, string mode, string artifacts)
    {
        await cloud.StartPortalAsync();
        var admin = await browser.NewUserAsync(cloud.PortalUrl);

        // 1. The admin signs in with the printed password, creates a project and a member with an instances quota of 2.
        await PortalPages.SignInAsync(admin, "admin", cloud.AdminPassword);
        await PortalBrowser.ScreenshotAsync(admin, artifacts, "1a-admin-signed-in");
        await admin.GotoAsync("/admin/projects");
        await admin.FillAsync("#name", "portal-a");
        await admin.ClickAsync("#create-project-submit");
        await admin.WaitForSelectorAsync("#project-id");
        var projectPage = admin.Url;
        await admin.FillAsync("#newUserName", Member);
        await admin.FillAsync("#newPassword", MemberPassword);
        await admin.SelectOptionAsync("#role", "member");
        await admin.ClickAsync("#add-member-submit");
        await admin.WaitForSelectorAsync($"#members td:text-is('{Member}')");
        await SetInstancesQuotaAsync(admin, 2);
        await PortalBrowser.ScreenshotAsync(admin, artifacts, "1b-project-member-quota");
        await PortalPages.SignOutAsync(admin);

        // 2. The member sees 0 of 2 instances, uploads the guest from the browser and sees it active with its checksums.
        var member = await browser.NewUserAsync(cloud.PortalUrl);
        await PortalPages.SignInAsync(member, Member, MemberPassword);
        var instancesQuota = member.Locator("[data-quota-resource=instances]");
        Assert.Equal("0", (await instancesQuota.Locator(".quota-used").TextContentAsync())?.Trim());
        Assert.Equal("2", (await instancesQuota.Locator(".quota-limit").TextContentAsync())?.Trim());
        await PortalBrowser.ScreenshotAsync(member, artifacts, "2a-overview-0-of-2");

        var guest = Path.Combine(cloud.Deployment.NewDirectory(), "guest.qcow2");
        await File.WriteAllBytesAsync(guest, GuestImage.Qcow2());
        await member.GotoAsync("/images/new");
        await member.FillAsync("#Name", "guest");
        await member.SelectOptionAsync("#DiskFormat", "qcow2");
        await member.ClickAsync("#create-image");
        await member.SetInputFilesAsync("#file", guest);
        var progress = new List<string?>();
        await member.ExposeFunctionAsync("reportProgress", (string value) => progress.Add(value));
        await member.EvaluateAsync("""
            new MutationObserver(() => window.reportProgress(document.getElementById('upload-progress').getAttribute('aria-valuenow') ?? document.getElementById('upload-progress').textContent))
                .observe(document.getElementById('upload-progress'), { attributes: true, childList: true, characterData: true, subtree: true })
            """);
        await member.ClickAsync("#upload-submit");
        await member.WaitForSelectorAsync("#image-status:text-is('active')", new() { Timeout = 120_000 });
        Assert.Contains("100", progress);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(guest)));
        Assert.Equal(sha256, (await member.TextContentAsync("#image-sha256"))?.Trim());
        Assert.Equal(128, (await member.TextContentAsync("#image-sha512"))?.Trim().Length);
        await PortalBrowser.ScreenshotAsync(member, artifacts, "2b-image-active");

        // 3. Imports a key pair, sees every flavor's fit, launches 2; the list goes to active without a reload.
        await member.GotoAsync("/key-pairs");
        await member.FillAsync("#import-name", "laptop");
        await member.FillAsync("#publicKey", await PublicKeyAsync(cloud.Deployment.NewDirectory()));
        await member.ClickAsync("#import-submit");
        await member.WaitForSelectorAsync("[data-key-pair=laptop]");
        await member.GotoAsync("/launch");
        var rows = member.Locator("#flavors tbody tr");
        Assert.Equal(5, await rows.CountAsync());
        foreach (var row in await rows.AllAsync())
            Assert.NotEqual("", (await row.Locator("td.fit").TextContentAsync())?.Trim());
        Assert.Equal("true", await member.GetAttributeAsync("tr[data-flavor='m1.tiny']", "data-fits"));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3a-wizard");
        // The wizard also makes a key pair in place: its private key downloads once, and the new key is selected.
        await member.ClickAsync("#new-key summary");
        await member.FillAsync("#new-key-name", "wizard-key");
        var download = await member.RunAndWaitForDownloadAsync(() => member.ClickAsync("#new-key-submit"));
        Assert.Equal("wizard-key.pem", download.SuggestedFilename);
        await member.WaitForSelectorAsync("#new-key-status.alert-success");
        Assert.Equal("wizard-key", await member.InputValueAsync("#KeyName"));
        Assert.StartsWith("ssh-ed25519 ", await PublicHalfAsync(await download.PathAsync()));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3a-wizard-key-pair");

        // Distributed: a second portal replica shows the same list live (each replica has its own subscription to Compute's events).
        IPage? replica = null;
        if (mode == "distributed")
        {
            await cloud.StartSecondPortalAsync();
            replica = await browser.NewUserAsync(cloud.SecondPortalUrl);
            await PortalPages.SignInAsync(replica, Member, MemberPassword);
            await replica.GotoAsync("/instances");
            await replica.WaitForSelectorAsync("body[data-live=ready]");
            await replica.EvaluateAsync("window.sameDocument = true");
        }
        await member.FillAsync("#Name", "web");
        await member.FillAsync("#Count", "2");
        await member.SelectOptionAsync("#ImageId", new SelectOptionValue { Label = "guest (private, qcow2)" });
        await member.CheckAsync("tr[data-flavor='m1.tiny'] input[type=radio]");
        await member.SelectOptionAsync("#KeyName", "laptop");
        await member.ClickAsync("#launch-submit");
        // The list's rows, which only the page the POST redirects to has, then its address. No load event is awaited:
        // after this POST-redirect-GET it once never came on a loaded host although the page had arrived, and
        // WaitForURLAsync waits for one too when the redirect has already happened (even with WaitUntil = Commit).
        await member.WaitForSelectorAsync("#instances tr[data-status]", new() { State = WaitForSelectorState.Attached, Timeout = 90_000 });
        Assert.Equal("/instances", new Uri(member.Url).AbsolutePath);
        // The list as first rendered, right after the launch; a mark on the window shows later that the page never reloaded.
        var firstStatuses = await member.EvalOnSelectorAllAsync<string[]>("#instances tr[data-status]", "rows => rows.map(r => r.dataset.status)");
        await member.EvaluateAsync("window.sameDocument = true");
        Assert.Equal(2, firstStatuses.Length);
        Assert.Contains("building", firstStatuses);
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3b-building");
        await member.WaitForFunctionAsync("() => document.querySelectorAll('#instances tr[data-status=active]').length === 2", null, new() { Timeout = 180_000 });
        Assert.True(await member.EvaluateAsync<bool>("window.sameDocument === true"), "the list turned active by itself, without a reload");
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3c-active-without-reload");
        if (replica is not null)
        {
            await replica.WaitForFunctionAsync("() => document.querySelectorAll('#instances tr[data-status=active]').length === 2", null, new() { Timeout = 60_000 });
            Assert.True(await replica.EvaluateAsync<bool>("window.sameDocument === true"), "the second replica's list turned active by itself");
            await PortalBrowser.ScreenshotAsync(replica, artifacts, "3c-second-replica-live");
        }
        var first = await member.GetAttributeAsync("#instances tbody tr:first-child", "data-instance");

        await Eventually.TrueAsync(async () =>
        {
            await member.GotoAsync($"/instances/{first}/console-log");
            return (await member.Locator("#console-output").CountAsync()) > 0
                && (await member.TextContentAsync("#console-output"))!.Contains(GuestImage.Message, StringComparison.Ordinal);
        }, "the guest's line in the console log page", TimeSpan.FromSeconds(90));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3d-console-log");
        await member.GotoAsync($"/instances/{first}/vnc");
        await member.WaitForSelectorAsync("#vnc-screen[data-connected=true]", new() { Timeout = 30_000 });
        await member.WaitForFunctionAsync("""
            () => {
                const canvas = document.querySelector('#vnc-screen canvas');
                if (!canvas || canvas.width === 0) return false;
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let i = 4; i < pixels.length; i += 4)
                    if (pixels[i] !== pixels[0] || pixels[i + 1] !== pixels[1] || pixels[i + 2] !== pixels[2]) return true;
                return false;
            }
            """, null, new() { Timeout = 30_000 });
        await PortalBrowser.ScreenshotAsync(member, artifacts, "3e-vnc-console");
        if (mode == "distributed")
            return;

        // 4. The wizard says before the click that the quota is full; a forced submit gets the server's sentence.
        await member.GotoAsync("/launch");
        Assert.Equal("false", await member.GetAttributeAsync("tr[data-flavor='m1.tiny']", "data-fits"));
        Assert.Contains("0 left in your quota", await member.TextContentAsync("tr[data-flavor='m1.tiny'] td.fit"));
        await member.FillAsync("#Name", "one-too-many");
        await member.SelectOptionAsync("#ImageId", new SelectOptionValue { Label = "guest (private, qcow2)" });
        await member.CheckAsync("tr[data-flavor='m1.tiny'] input[type=radio]");
        await member.ClickAsync("#launch-submit");
        await member.WaitForSelectorAsync("#launch-errors");
        Assert.Contains("instances quota is 2", await member.TextContentAsync("#launch-errors"));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "4-quota-full");

        // 5. Stops, starts and deletes an instance; the action log shows each.
        await member.GotoAsync($"/instances/{first}");
        await ActAsync(member, "stop", "stopped");
        await ActAsync(member, "start", "active");
        member.Dialog += (_, dialog) => dialog.AcceptAsync();
        await member.WaitForSelectorAsync("body[data-live=ready]");
        await member.ClickAsync("[data-action=delete]");
        await member.WaitForSelectorAsync("#instance-status:text-is('deleted')", new() { Timeout = 60_000 });
        foreach (var action in new[] { "create", "stop", "start", "delete" })
            Assert.Equal(1, await member.Locator($"#action-log tr[data-action-row={action}]").CountAsync());
        await PortalBrowser.ScreenshotAsync(member, artifacts, "5a-action-log");
        await member.GotoAsync("/");
        var recent = await member.EvalOnSelectorAllAsync<string[]>("#recent-actions tr[data-recent-action]", "rows => rows.map(r => r.dataset.recentAction)");
        Assert.Equal(["delete", "start", "stop"], recent.Take(3));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "5b-overview-recent-actions");

        // 6. Two more do not fit (1 left) until the admin raises the quota; then the admin disables the only host.
        await member.GotoAsync("/launch?Count=2");
        Assert.Contains("needs 2 instances, 1 left in your quota", await member.TextContentAsync("tr[data-flavor='m1.tiny'] td.fit"));
        await PortalPages.SignInAsync(admin, "admin", cloud.AdminPassword);
        await admin.GotoAsync(projectPage);
        await SetInstancesQuotaAsync(admin, 3);
        await member.GotoAsync("/launch?Count=2");
        Assert.Equal("true", await member.GetAttributeAsync("tr[data-flavor='m1.tiny']", "data-fits"));
        await PortalBrowser.ScreenshotAsync(member, artifacts, "6a-fits-again");
        await admin.GotoAsync("/admin/hosts");
        await admin.FillAsync($"[data-host='{cloud.Node}'] input[name=reason]", "maintenance");
        await admin.ClickAsync($"[data-disable-host='{cloud.Node}']");
        await admin.WaitForSelectorAsync($"[data-host='{cloud.Node}'] [data-host-enabled=false]");
        await Eventually.TrueAsync(async () =>
        {
            await member.GotoAsync("/launch");
            return await member.GetAttributeAsync("tr[data-flavor='m1.tiny']", "data-fits") == "false";
        }, "the wizard saying the disabled host has no room", TimeSpan.FromSeconds(30));
        var reason = await member.TextContentAsync("tr[data-flavor='m1.tiny'] td.fit");
        Assert.DoesNotContain("quota", reason);
        Assert.Contains("host", reason);
        await PortalBrowser.ScreenshotAsync(member, artifacts, "6b-no-host-has-room");
    }

    private static async Task SetInstancesQuotaAsync(IPage admin, int limit)
    {
        await admin.FillAsync("#limit-instances", limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await admin.ClickAsync("[data-quota-resource=instances] button[type=submit]");
        await admin.WaitForSelectorAsync("[role=status].alert");
        Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), await admin.InputValueAsync("#limit-instances"));
    }

    private static async Task ActAsync(IPage page, string action, string status)
    {
        await page.WaitForSelectorAsync("body[data-live=ready]");   // the live part no longer replaces itself under the click
        await page.ClickAsync($"[data-action={action}]");
        await page.WaitForSelectorAsync($"#instance-status:text-is('{status}')", new() { Timeout = 60_000 });
        await page.WaitForSelectorAsync("#instance-task", new() { State = WaitForSelectorState.Detached, Timeout = 60_000 });
    }

    /// <summary>What <c>ssh-keygen -y</c> derives from a private key file: proof that the download is a usable key.</summary>
    private static async Task<string> PublicHalfAsync(string privateKey)
    {
        File.SetUnixFileMode(privateKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);   // ssh-keygen refuses a readable key
        var keygen = await ChildProcess.RunAsync("ssh-keygen", ["-y", "-f", privateKey], TimeSpan.FromSeconds(30));
        Assert.True(keygen.ExitCode == 0, keygen.StandardError);
        return keygen.StandardOutput.Trim();
    }

    private static async Task<string> PublicKeyAsync(string directory)
    {
        var key = Path.Combine(directory, "id_ed25519");
        var keygen = await ChildProcess.RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key], TimeSpan.FromSeconds(30));
        Assert.True(keygen.ExitCode == 0, keygen.Output);
        return (await File.ReadAllTextAsync(key + ".pub")).Trim();
    }
}
