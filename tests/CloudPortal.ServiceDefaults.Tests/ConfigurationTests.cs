using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Messaging;
using CloudPortal.ServiceDefaults.Persistence;
using Xunit;

namespace CloudPortal.ServiceDefaults.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public void RabbitMQ_addresses_are_redacted_before_they_reach_a_message()
    {
        Assert.Equal("amqp://cloudportal:***@broker:5672/prod", RabbitMqAddress.Redact("amqp://cloudportal:s3cret@broker:5672/prod"));
        Assert.Equal("amqp://broker:5672/", RabbitMqAddress.Redact("amqp://broker:5672/"));
    }

    [Theory]
    [InlineData("localhost:5672")]
    [InlineData("http://broker:5672/")]
    [InlineData("not a uri")]
    public void A_RabbitMQ_address_that_is_not_amqp_is_a_startup_error(string value)
    {
        var error = Assert.Throws<StartupException>(() => RabbitMqAddress.Parse(value));
        Assert.Contains("must be an amqp:// URI", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_module_gets_its_own_database()
    {
        var options = new CloudPortalOptions { DataDir = "/var/lib/cloudportal" };
        options.Database.Postgres = "Host=db;Username=cp;Password=pw";

        Assert.Equal("/var/lib/cloudportal/block-storage.db", ModuleConnections.SqlitePath(options, "block-storage"));
        Assert.Contains("Database=cloudportal_block_storage", ModuleConnections.Postgres(options, "block-storage"), StringComparison.Ordinal);
        Assert.Contains("Database=cloudportal_scheduler", ModuleConnections.Postgres(options, "scheduler"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_PostgreSQL_connection_string_is_a_startup_error()
    {
        var options = new CloudPortalOptions();
        options.Database.Postgres = "Host=db;NoSuchKeyword=1";

        var error = Assert.Throws<StartupException>(() => ModuleConnections.Postgres(options, "scheduler"));
        Assert.Contains("not a valid connection string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Listen_addresses_become_urls_this_machine_can_call()
    {
        Assert.Equal(["http://127.0.0.1:8080", "http://127.0.0.1:9000", "https://cloud.example:443"],
            ListenUrls.Callable("http://0.0.0.0:8080; http://*:9000;https://cloud.example:443"));
        Assert.Equal([ListenUrls.Default], ListenUrls.Callable(null));
        var error = Assert.Throws<StartupException>(() => ListenUrls.Parse("not a url"));
        Assert.Contains("set --urls", error.Message, StringComparison.Ordinal);
    }
}
