using CloudPortal.ServiceDefaults.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests;

public sealed class TransportSecurityTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.10.0.1:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://LOCALHOST:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://192.168.1.20:8080", false)]
    [InlineData("http://[fd00::20]:8080", false)]
    [InlineData("http://cloud.example:8080", false)]
    public void Only_loopback_addresses_count_as_loopback(string url, bool loopback) =>
        Assert.Equal(loopback, TransportSecurity.IsLoopback(BindingAddress.Parse(url)));

    [Theory]
    [InlineData(null)]
    [InlineData("http://127.0.0.1:8080")]
    [InlineData("http://localhost:8080;http://[::1]:8081")]
    [InlineData("https://0.0.0.0:8443;http://127.0.0.1:8080")]
    public void Plain_http_on_loopback_is_allowed_by_default(string? urls)
    {
        var decision = TransportSecurity.Enforce(Configuration(urls));

        Assert.True(decision.AllowHttp);
        Assert.Empty(decision.ExposedHttp);
        Assert.False(decision.ServesInsecureHttp);
    }

    [Theory]
    [InlineData("https://0.0.0.0:8443")]
    [InlineData("https://127.0.0.1:8443;https://192.168.1.20:8443")]
    public void Https_only_listen_addresses_allow_no_plain_http(string urls)
    {
        var decision = TransportSecurity.Enforce(Configuration(urls));

        Assert.False(decision.AllowHttp);
        Assert.Empty(decision.ExposedHttp);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "http://0.0.0.0:8080")]
    [InlineData("http://[::]:8080", "http://[::]:8080")]
    [InlineData("http://*:8080", "http://*:8080")]
    [InlineData("http://192.168.1.20:8080", "http://192.168.1.20:8080")]
    [InlineData("http://127.0.0.1:8080;http://+:9000", "http://+:9000")]
    [InlineData("https://0.0.0.0:8443;http://10.0.0.5:8080", "http://10.0.0.5:8080")]
    public void Plain_http_other_machines_reach_is_refused_naming_the_fix(string urls, string exposed)
    {
        var error = Assert.Throws<StartupException>(() => TransportSecurity.Enforce(Configuration(urls)));

        Assert.Contains(exposed, error.Message, StringComparison.Ordinal);
        Assert.Contains("--insecure-http", error.Message, StringComparison.Ordinal);
        Assert.Contains("https://", error.Message, StringComparison.Ordinal);
        Assert.Contains("Kestrel:Certificates:Default:Path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Insecure_http_lets_plain_http_reach_other_machines_and_says_so()
    {
        var decision = TransportSecurity.Enforce(Configuration("http://0.0.0.0:8080", insecureHttp: true));

        Assert.True(decision.AllowHttp);
        Assert.True(decision.ServesInsecureHttp);
        Assert.Equal(["http://0.0.0.0:8080"], decision.ExposedHttp);
    }

    [Fact]
    public void Kestrel_endpoints_replace_the_urls_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:8080",
            ["Kestrel:Endpoints:Public:Url"] = "http://0.0.0.0:8080",
        }).Build();

        Assert.Throws<StartupException>(() => TransportSecurity.Enforce(configuration));
    }

    private static IConfiguration Configuration(string? urls, bool insecureHttp = false) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = urls,
            [TransportSecurity.InsecureHttpKey] = insecureHttp ? "true" : null,
        }).Build();
}
