using Microsoft.AspNetCore.Builder;

namespace CloudPortal.Ec2Api;

/// <summary>The EC2-compatible Query API. It owns no data; its pages and actions arrive with their issues.</summary>
public static class Ec2ApiModule
{
    public const string Name = "ec2-api";

    public static WebApplicationBuilder AddEc2ApiModule(this WebApplicationBuilder builder) => builder;

    public static WebApplication MapEc2ApiModule(this WebApplication app) => app;
}
