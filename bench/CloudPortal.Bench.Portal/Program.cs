using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Bench.Common;
using CloudPortal.Testing;
using Microsoft.Playwright;

// Page benchmark: an all-in-one cloud on libvirt's simulated driver (the pages do not care whether guests are real;
// 100 real ones would not fit a small machine), a project with N instances, and cold loads of the overview, the
// instance list and the launch wizard in Chromium. Server time: the document's requestStart → responseStart in the
// browser's Navigation Timing (the portal's own work, its API calls included). Bytes: everything the page
// transferred (document, styles, scripts), from an empty cache.
var instances = Option("--instances", 100);
var loads = Option("--loads", 10);
string[] pages = ["/", "/instances", "/launch"];

await using var bench = await SimulatedBenchCloud.StartAsync(instances);
var (cloud, tenants) = (bench.Cloud, bench.Tenants);
await LaunchAsync(bench, instances);

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new()
{
    ExecutablePath = "/usr/bin/chromium",
    Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
var signedIn = await SignInAsync(browser, cloud.PortalUrl, tenants.UserName("memberA"));

var rows = new List<string>();
foreach (var path in pages)
{
    var server = new List<double>();
    var bytes = new List<double>();
    for (var i = 0; i < loads + 1; i++)
    {
        // A fresh context each time: the session cookie, nothing cached.
        await using var context = await browser.NewContextAsync(new() { BaseURL = cloud.PortalUrl, StorageState = signedIn });
        var page = await context.NewPageAsync();
        await page.GotoAsync(path, new() { WaitUntil = WaitUntilState.NetworkIdle });
        var timing = await page.EvaluateAsync<JsonElement>("""
            () => {
                const nav = performance.getEntriesByType('navigation')[0];
                const resources = performance.getEntriesByType('resource');
                return { server: nav.responseStart - nav.requestStart,
                         bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0) };
            }
            """);
        if (i == 0)
            continue;   // the first load warms the portal's and the modules' code paths
        server.Add(timing.GetProperty("server").GetDouble());
        bytes.Add(timing.GetProperty("bytes").GetDouble());
    }
    rows.Add($"| {path,-10} | {Stats.Percentile(server, 50),8:0.0} | {Stats.Percentile(server, 95),8:0.0} | {Stats.Percentile(bytes, 50) / 1024,9:0.0} | {(Stats.Percentile(server, 95) <= 300 && bytes.Max() <= 1 << 20 ? "yes" : "no"),6} |");
}

Console.WriteLine();
Console.WriteLine($"CloudPortal page benchmark — {Environment.ProcessorCount} CPUs, {instances} instances in the project, {loads} cold loads per page (after one warm-up)");
Console.WriteLine("target: server time ≤ 300 ms, ≤ 1 MiB transferred on a cold load");
Console.WriteLine();
Console.WriteLine("| page       | p50 (ms) | p95 (ms) | KiB (p50) | target |");
Console.WriteLine("|------------|---------:|---------:|----------:|-------:|");
rows.ForEach(Console.WriteLine);
return 0;

int Option(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

// N instances of the prepared cloud's flavor and image launched in project A, and active.
static async Task LaunchAsync(SimulatedBenchCloud bench, int count)
{
    using var compute = OidcClient.Api(bench.Cloud.ComputeUrl, bench.Tenants.Token("memberA"), bench.Tenants.ProjectA);
    using (var launched = await compute.PostAsJsonAsync("compute/v1/instances",
        new { name = "bench", flavorId = SimulatedBenchCloud.Flavor, imageId = bench.ImageId, minCount = count, maxCount = count }))
        launched.EnsureSuccessStatusCode();
    await Eventually.TrueAsync(async () =>
    {
        var page = await compute.GetFromJsonAsync<JsonElement>("compute/v1/instances?limit=1000");
        var statuses = page.GetProperty("instances").EnumerateArray().Select(i => i.GetProperty("status").GetString()).ToList();
        if (statuses.Contains("error"))
            throw new InvalidOperationException($"instances went to error: {page}");
        return statuses.Count(s => s == "active") == count;
    }, $"{count} active instances", TimeSpan.FromMinutes(5));
}

static async Task<string> SignInAsync(IBrowser browser, string portal, string user)
{
    await using var context = await browser.NewContextAsync(new() { BaseURL = portal });
    var page = await context.NewPageAsync();
    await page.GotoAsync("/");
    await page.FillAsync("#UserName", user);
    await page.FillAsync("#Password", Tenants.Password);
    await page.ClickAsync("button[type=submit]");
    await page.WaitForSelectorAsync("#signed-in-user");
    return await context.StorageStateAsync();
}
