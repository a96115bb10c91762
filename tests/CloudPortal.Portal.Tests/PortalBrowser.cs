using Microsoft.Playwright;
using Xunit;

namespace CloudPortal.Portal.Tests;

/// <summary>
/// One Chromium for a test class (Debian's, driven by Playwright; Playwright cannot download browsers here). Each
/// user gets a context of their own, so cookies never mix; every step's screenshot is kept under
/// <c>artifacts/portal/&lt;test&gt;/</c> next to the test binaries.
/// </summary>
public sealed class PortalBrowser : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public static string Artifacts { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "portal");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium (deploy/dev/start-services.sh does)");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    private readonly List<IPage> _pages = [];

    private readonly System.Collections.Concurrent.ConcurrentBag<string> _console = [];

    public async Task<IPage> NewUserAsync(string baseUrl)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = baseUrl, ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        var index = _pages.Count;
        page.Console += (_, message) => _console.Add($"user{index} {message.Type}: {message.Text}");
        page.PageError += (_, error) => _console.Add($"user{index} page error: {error}");
        _pages.Add(page);
        return page;
    }

    /// <summary>When a test fails: every user's page as it was (screenshot and HTML), for the artifacts.</summary>
    public async Task KeepFailureAsync(string test)
    {
        Directory.CreateDirectory(Path.Combine(Artifacts, test));
        await File.WriteAllLinesAsync(Path.Combine(Artifacts, test, "failure-console.txt"), _console);
        for (var i = 0; i < _pages.Count; i++)
        {
            try
            {
                await ScreenshotAsync(_pages[i], test, $"failure-user{i}");
                await File.WriteAllTextAsync(Path.Combine(Artifacts, test, $"failure-user{i}.html"), $"<!-- {_pages[i].Url} -->\n" + await _pages[i].ContentAsync());
            }
            catch (PlaywrightException)
            {
                // The page is gone; nothing to keep.
            }
        }
    }

    /// <summary>When a test fails: what every process of the cloud printed (a page's 500 says why only there).</summary>
    public static async Task KeepLogsAsync(CloudPortal.Testing.TestCloud cloud, string test)
    {
        Directory.CreateDirectory(Path.Combine(Artifacts, test));
        for (var i = 0; i < cloud.Processes.Count; i++)
            await File.WriteAllTextAsync(Path.Combine(Artifacts, test, $"failure-process{i}.log"), cloud.Processes[i].Output);
    }

    public static async Task ScreenshotAsync(IPage page, string test, string step)
    {
        var directory = Path.Combine(Artifacts, test);
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(directory, $"{step}.png"), FullPage = true });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        _playwright?.Dispose();
    }
}
