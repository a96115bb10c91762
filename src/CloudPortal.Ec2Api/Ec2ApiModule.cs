using CloudPortal.Ec2Api.Actions;
using CloudPortal.Ec2Api.Cloud;
using CloudPortal.Ec2Api.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Ec2Api;

/// <summary>
/// The EC2-compatible Query API at <c>/ec2/</c>. It owns no data: a verified request (Identity checks the SigV4
/// signature) becomes calls to Compute's and Images' REST APIs with the access key owner's token (ADR 0012), and their
/// answers become EC2 XML. Identity and the Scheduler are asked over the bus
/// (MassTransit's request clients need no registration).
/// </summary>
public static class Ec2ApiModule
{
    public const string Name = "ec2-api";

    public const string Path = "/ec2";

    public static WebApplicationBuilder AddEc2ApiModule(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<Ec2ApiOptions>().BindConfiguration(Ec2ApiOptions.Section);
        builder.Services.AddHttpClient(Ec2TokenCache.HttpClientName);
        builder.Services.AddHttpClient(CloudApi.HttpClientName);
        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<Ec2Actions>();
        builder.Services.AddSingleton<Ec2TokenCache>();
        builder.Services.AddScoped<CloudApi>();
        builder.Services.AddScoped<Ec2Endpoint>();
        return builder;
    }

    public static WebApplication MapEc2ApiModule(this WebApplication app)
    {
        // The signature is the credential: no bearer token, no antiforgery, no problem details (EC2 error XML instead).
        // One route answers /ec2 and /ec2/ (routing ignores a trailing slash); the signature covers the path as sent.
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Post], (HttpContext http, Ec2Endpoint endpoint) => endpoint.HandleAsync(http))
            .AllowAnonymous().DisableAntiforgery().ExcludeFromDescription();
        return app;
    }
}
