using CloudPortal.Contracts.Images;
using CloudPortal.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace CloudPortal.Images.Tests;

/// <summary>
/// A distributed cloud (Images in its own process on PostgreSQL and RabbitMQ) and a bus of the test's own on the
/// same virtual host, playing Compute: it asks <see cref="GetLaunchImage"/> the way Compute does, by publishing the
/// request and waiting for the answer. Shared by the tests of one class; each test makes its own projects and images.
/// </summary>
public sealed class LaunchCloud : IAsyncLifetime
{
    private ServiceProvider? _bus;

    public TestCloud Cloud { get; private set; } = null!;

    public Tenants Tenants { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Cloud = await TestCloud.StartAsync("distributed");
        Tenants = await Tenants.CreateAsync(Cloud);
        var services = new ServiceCollection();
        services.AddMassTransit(bus => bus.UsingRabbitMq((context, cfg) =>
        {
            cfg.Host(new Uri(Cloud.Deployment.RabbitMq!.Uri()));
            cfg.ConfigureEndpoints(context);
        }));
        _bus = services.BuildServiceProvider();
        await _bus.GetRequiredService<IBusControl>().StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Asks Images; the answer is a <see cref="LaunchImage"/> or an <see cref="ImageNotLaunchable"/>.</summary>
    public async Task<object> AskAsync(Guid imageId, Guid projectId, TimeSpan validFor)
    {
        var client = _bus!.GetRequiredService<IBus>().CreateRequestClient<GetLaunchImage>(RequestTimeout.After(s: 30));
        var response = await client.GetResponse<LaunchImage, ImageNotLaunchable>(new GetLaunchImage(imageId, projectId, validFor), TestContext.Current.CancellationToken);
        return response.Is(out Response<LaunchImage>? launch) ? launch!.Message
            : response.Is(out Response<ImageNotLaunchable>? refused) ? refused!.Message
            : throw new InvalidOperationException($"unexpected answer {response.Message}");
    }

    public async Task<LaunchImage> LaunchAsync(Guid imageId, Guid projectId, TimeSpan validFor) =>
        await AskAsync(imageId, projectId, validFor) as LaunchImage
        ?? throw new Xunit.Sdk.XunitException($"project {projectId} may not launch image {imageId}: {await AskAsync(imageId, projectId, validFor)}");

    /// <summary>Writes the image's row in the Images database, as the module itself would have committed it.</summary>
    public async Task UpdateRowAsync(Guid image, string assignments)
    {
        await using var connection = new NpgsqlConnection(Cloud.Deployment.Postgres!.ConnectionString("images"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"UPDATE images SET {assignments}, \"UpdatedAt\" = now() WHERE \"Id\" = $1", connection) { Parameters = { new() { Value = image } } };
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.GetRequiredService<IBusControl>().StopAsync();
            await _bus.DisposeAsync();
        }
        if (Cloud is not null)
            await Cloud.DisposeAsync();
    }
}
