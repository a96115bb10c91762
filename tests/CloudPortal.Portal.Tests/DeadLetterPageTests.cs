using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Portal.Tests;

/// <summary>The admin area's dead letters page, in a real browser over an all-in-one: listed, replayed, discarded.</summary>
public sealed class DeadLetterPageTests(PortalBrowser browser) : IClassFixture<PortalBrowser>, IAsyncLifetime
{
    private const string Test = "dead-letters";

    private TestCloud _cloud = null!;

    public async ValueTask InitializeAsync() => _cloud = await TestCloud.StartAsync("all-in-one");

    public async ValueTask DisposeAsync() => await _cloud.DisposeAsync();

    [Fact]
    public async Task An_admin_finds_dead_letters_from_the_admin_menu_replays_one_and_discards_another()
    {
        try
        {
            // Two rows no relay can publish (their contract type is gone): set aside, they become dead letters.
            var (_, replayed) = await OutboxRow.InsertAsync(_cloud, "identity", "CloudPortal.Contracts.Gone.Replayed, CloudPortal.Contracts", "{}");
            var (_, discarded) = await OutboxRow.InsertAsync(_cloud, "identity", "CloudPortal.Contracts.Gone.Discarded, CloudPortal.Contracts", "{}");
            foreach (var sequence in new[] { replayed, discarded })
                await Eventually.TrueAsync(async () => await OutboxRow.ReadAsync(_cloud, "identity", sequence) is { FailedAt: not null }, $"row {sequence} set aside");

            var admin = await browser.NewUserAsync(_cloud.PortalUrl);
            await PortalPages.SignInAsync(admin, "admin", _cloud.AdminPassword);
            await admin.GotoAsync("/admin");
            await admin.ClickAsync("#admin-menu >> text=Dead letters");
            var replayedRow = $"tr[data-dead-letter='outbox:identity:{replayed}']";
            var discardedRow = $"tr[data-dead-letter='outbox:identity:{discarded}']";
            await admin.WaitForSelectorAsync(discardedRow);
            Assert.Contains("unknown message type", await admin.TextContentAsync(discardedRow), StringComparison.Ordinal);
            Assert.Contains("outbox:identity", await admin.TextContentAsync(replayedRow), StringComparison.Ordinal);
            await PortalBrowser.ScreenshotAsync(admin, Test, "1-listed");

            await admin.ClickAsync($"{discardedRow} [data-discard]");
            await admin.WaitForSelectorAsync("[role=status].alert");
            Assert.Equal($"outbox:identity:{discarded} discarded.", await PortalPages.FlashAsync(admin));
            Assert.Equal(0, await admin.Locator(discardedRow).CountAsync());
            Assert.Null(await OutboxRow.ReadAsync(_cloud, "identity", discarded));

            await admin.ClickAsync($"{replayedRow} [data-replay]");
            await admin.WaitForSelectorAsync("[role=status].alert");
            Assert.Equal($"outbox:identity:{replayed} replayed.", await PortalPages.FlashAsync(admin));
            // The relay tried the row again (and, its type still gone, set it aside again).
            await Eventually.TrueAsync(async () => await OutboxRow.ReadAsync(_cloud, "identity", replayed) is { Attempts: 2, FailedAt: not null },
                "the relay retrying the replayed row", TimeSpan.FromSeconds(30));
            await PortalBrowser.ScreenshotAsync(admin, Test, "2-replayed-and-discarded");
        }
        catch
        {
            await browser.KeepFailureAsync(Test);
            await PortalBrowser.KeepLogsAsync(_cloud, Test);
            throw;
        }
    }
}
