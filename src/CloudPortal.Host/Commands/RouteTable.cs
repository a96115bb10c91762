using System.Text.Json;
using System.Text.Json.Serialization;
using CloudPortal.ServiceDefaults.OpenApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Host.Commands;

/// <summary>One mapped route: its methods (<c>*</c> for any), pattern, and the OpenAPI document that describes it.</summary>
internal sealed record MappedRoute(IReadOnlyList<string> Methods, string Route, string? Document, bool Excluded);

internal sealed record RouteReport(IReadOnlyList<ModuleApi> Documents, IReadOnlyList<MappedRoute> Routes);

/// <summary>
/// What a composed (not started) application maps: the endpoints of its own data sources, the very ones the
/// server's routing matches against once it starts.
/// </summary>
internal static class RouteTable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static RouteReport Read(WebApplication app)
    {
        var routes = ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(Describe)
            .OrderBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => string.Join(',', r.Methods), StringComparer.Ordinal)
            .ToList();
        return new RouteReport(app.Services.GetService<ModuleApiCatalog>()?.Apis ?? [], routes);
    }

    public static string ToJson(RouteReport report) => JsonSerializer.Serialize(report, Json);

    public static string ToText(RouteReport report)
    {
        var routes = Table.Format(["METHODS", "ROUTE", "DOCUMENT"],
            report.Routes.Select(r => new[] { string.Join(',', r.Methods), r.Route, r.Document ?? (r.Excluded ? "(excluded)" : "-") }).ToList());
        var documents = report.Documents.Count == 0
            ? $"no module API, no OpenAPI document{Environment.NewLine}"
            : Table.Format(["DOCUMENT", "PREFIX", "SERVED AT"], report.Documents.Select(d => new[] { d.Module, d.Prefix, d.DocumentPath }).ToList());
        return routes + Environment.NewLine + documents;
    }

    private static MappedRoute Describe(RouteEndpoint endpoint)
    {
        var metadata = endpoint.Metadata;
        var methods = metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } m ? m.Order(StringComparer.Ordinal).ToList() : ["*"];
        // Explicitly left out of every document: minimal APIs' ExcludeFromDescription, MVC's [ApiExplorerSettings(IgnoreApi = true)].
        var excluded = metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription == true
            || metadata.GetMetadata<IApiDescriptionVisibilityProvider>()?.IgnoreApi == true;
        var document = excluded ? null : metadata.GetMetadata<IEndpointGroupNameMetadata>()?.EndpointGroupName;
        var raw = endpoint.RoutePattern.RawText ?? "";
        return new MappedRoute(methods, "/" + raw.TrimStart('~').TrimStart('/'), document, excluded);
    }
}
