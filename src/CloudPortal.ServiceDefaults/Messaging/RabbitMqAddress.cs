using CloudPortal.ServiceDefaults.Configuration;

namespace CloudPortal.ServiceDefaults.Messaging;

public static class RabbitMqAddress
{
    /// <summary>Parses <c>amqp://user:password@host:port/vhost</c> with an operator-readable error.</summary>
    public static Uri Parse(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps" && uri.Scheme != "rabbitmq"))
            throw new StartupException($"CloudPortal:Bus:RabbitMq must be an amqp:// URI such as amqp://user:password@host:5672/, not '{Redact(value)}'");
        return uri;
    }

    /// <summary>The user the URI connects as (RabbitMQ's default, <c>guest</c>, when it names none).</summary>
    public static string UserName(Uri uri) =>
        uri.UserInfo.Length == 0 ? "guest" : Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);

    /// <summary>The password the URI connects with (RabbitMQ's default, <c>guest</c>, when it names none).</summary>
    public static string Password(Uri uri) =>
        uri.UserInfo.Split(':', 2) is [_, var password] ? Uri.UnescapeDataString(password) : "guest";

    /// <summary>
    /// RabbitMQ's management API for this bus: <c>CloudPortal:Bus:RabbitMqManagement</c>, else port 15672 of the bus's
    /// host. Callers sign in with the bus URI's own user.
    /// </summary>
    public static Uri Management(BusOptions options, Uri bus)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(bus);
        return string.IsNullOrWhiteSpace(options.RabbitMqManagement)
            ? new Uri($"http://{bus.Host}:15672/")
            : new Uri(options.RabbitMqManagement.TrimEnd('/') + "/");
    }

    /// <summary>The URI's virtual host: <c>/</c> when its path is empty.</summary>
    public static string VirtualHost(Uri uri) =>
        uri.AbsolutePath.Trim('/') is { Length: > 0 } path ? Uri.UnescapeDataString(path) : "/";

    /// <summary>The URI without its password, for messages and logs.</summary>
    public static string Redact(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? value.Replace(uri.UserInfo, uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal)
            : value;
}
