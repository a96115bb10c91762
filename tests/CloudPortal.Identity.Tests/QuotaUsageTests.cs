using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Contracts.Identity;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudPortal.Identity.Tests;

/// <summary>
/// The quota view's usage columns come from the owners' reports over the bus: the Identity process keeps the newest
/// count per resource, whatever order reports arrive in. (Images' real reports are tested in Images.Tests.)
/// </summary>
public sealed class QuotaUsageTests
{
    [Fact]
    public async Task The_view_keeps_each_resources_newest_report_and_ignores_unknown_resources()
    {
        await using var cloud = await TestCloud.StartAsync("distributed");
        var tenants = await Tenants.CreateAsync(cloud);
        using var reader = OidcClient.Api(cloud.IdentityUrl, tenants.Token("readerA"));
        var services = new ServiceCollection();
        services.AddMassTransit(bus => bus.UsingRabbitMq((_, cfg) => cfg.Host(new Uri(cloud.Deployment.RabbitMq!.Uri()))));
        await using var provider = services.BuildServiceProvider();
        var busControl = provider.GetRequiredService<IBusControl>();
        await busControl.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var t = DateTimeOffset.UtcNow;
            await busControl.Publish(new QuotaUsageReported(tenants.ProjectA, "images",
                [new ResourceUsage("images", 7, 0), new ResourceUsage("image_bytes", 100, 0), new ResourceUsage("no_such_resource", 5, 0)], t.AddSeconds(2)));
            var first = await WaitForAsync(reader, tenants.ProjectA, v => v["images"] == 7 && v["image_bytes"] == 100);
            Assert.Null(first["instances"]);

            // Counted earlier than what is kept: ignored for images; instances had no count yet, so it is taken.
            await busControl.Publish(new QuotaUsageReported(tenants.ProjectA, "compute",
                [new ResourceUsage("images", 3, 0), new ResourceUsage("instances", 9, 1)], t.AddSeconds(1)));
            var second = await WaitForAsync(reader, tenants.ProjectA, v => v["instances"] == 9);
            Assert.Equal(7, second["images"]);

            // Another project's view is untouched.
            using var readerB = OidcClient.Api(cloud.IdentityUrl, tenants.Token("memberB"));
            Assert.Null((await ViewAsync(readerB, tenants.ProjectB))["images"]);
        }
        finally
        {
            await busControl.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<Dictionary<string, long?>> ViewAsync(HttpClient identity, Guid project)
    {
        var view = await identity.GetFromJsonAsync<JsonElement>($"identity/v1/projects/{project}/quota");
        return view.GetProperty("resources").EnumerateArray().ToDictionary(
            r => r.GetProperty("resource").GetString()!,
            r => r.GetProperty("inUse") is { ValueKind: JsonValueKind.Number } n ? n.GetInt64() : (long?)null);
    }

    private static async Task<Dictionary<string, long?>> WaitForAsync(HttpClient identity, Guid project, Func<Dictionary<string, long?>, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await ViewAsync(identity, project);
            if (condition(view))
                return view;
            Assert.True(DateTime.UtcNow < deadline, $"the quota view did not reach the expected usage within 30 s: {string.Join(", ", view.Select(p => $"{p.Key}={p.Value}"))}");
            await Task.Delay(200);
        }
    }
}
