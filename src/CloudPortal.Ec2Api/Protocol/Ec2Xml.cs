using System.Globalization;
using System.Xml.Linq;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// EC2's XML (EC2-API.md §1.4–1.5): <c>{Action}Response</c> in the API version's namespace with a <c>requestId</c>,
/// every list item an <c>item</c>, timestamps ISO-8601 UTC with milliseconds; errors as <c>Response/Errors/Error</c>.
/// </summary>
public static class Ec2Xml
{
    public const string Version = "2016-11-15";

    public static readonly XNamespace Ns = $"http://ec2.amazonaws.com/doc/{Version}/";

    /// <summary>An element in the EC2 namespace; values are formatted as EC2 writes them, null children are left out.</summary>
    public static XElement X(string name, params object?[] content) => new(Ns + name, content.Select(Format));

    /// <summary>An element only when the value is there.</summary>
    public static XElement? Opt(string name, object? value) => value is null ? null : X(name, value);

    /// <summary><c>&lt;name&gt;&lt;item&gt;...&lt;/item&gt;...&lt;/name&gt;</c></summary>
    public static XElement Set(string name, IEnumerable<IEnumerable<object?>> items) => X(name, items.Select(i => X("item", [.. i])));

    public static XElement TagSet(IReadOnlyDictionary<string, string> tags) =>
        Set("tagSet", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new object?[] { X("key", t.Key), X("value", t.Value) }));

    public static XDocument Response(string action, string requestId, IEnumerable<object?> content) =>
        new(new XDeclaration("1.0", "UTF-8", null), X(action + "Response", [X("requestId", requestId), .. content]));

    public static XDocument Error(string code, string message, string requestId) =>
        new(new XDeclaration("1.0", "UTF-8", null),
            new XElement("Response",
                new XElement("Errors", new XElement("Error", new XElement("Code", code), new XElement("Message", message))),
                new XElement("RequestID", requestId)));

    public static string Time(DateTime value) =>
        DateTime.SpecifyKind(value, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static object? Format(object? value) => value switch
    {
        bool b => b ? "true" : "false",
        DateTime t => Time(t),
        DateTimeOffset t => Time(t.UtcDateTime),
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture),
        _ => value,
    };
}
