using System.Reflection;
using System.Runtime.CompilerServices;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.OpenApi;

/// <summary>A module's REST API as <see cref="CloudPortalAuthentication.MapModuleApi"/> mapped it: its document name and route prefix.</summary>
public sealed record ModuleApi(string Module, string Prefix)
{
    /// <summary>Where the process serves the module's OpenAPI document.</summary>
    public string DocumentPath => $"/openapi/{Module}.json";
}

/// <summary>The module APIs this process maps, in mapping order (a module may map more than one prefix): the documents it serves.</summary>
public sealed class ModuleApiCatalog
{
    private readonly List<ModuleApi> _apis = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<ModuleApi> Apis
    {
        get
        {
            lock (_gate)
                return _apis.ToList();
        }
    }

    public bool Contains(string? module)
    {
        lock (_gate)
            return _apis.Exists(a => string.Equals(a.Module, module, StringComparison.Ordinal));
    }

    internal void Add(ModuleApi api)
    {
        lock (_gate)
        {
            if (_apis.Contains(api))
                throw new InvalidOperationException($"module '{api.Module}' maps {api.Prefix} twice");
            _apis.Add(api);
        }
    }
}

/// <summary>Marks endpoints whose handlers read the acting project from the <c>CloudPortal-Project</c> header when the route names none.</summary>
public sealed class ProjectHeaderMetadata
{
    public static readonly ProjectHeaderMetadata Instance = new();

    private ProjectHeaderMetadata()
    {
    }
}

/// <summary>
/// One OpenAPI document per module REST API, at <c>/openapi/{module}.json</c>. A module opts in by mapping its routes
/// with <c>app.MapModuleApi(Name, "/prefix/v1")</c>: the group is tagged with the module's name, and the document
/// of that name holds exactly the endpoints of that group. The host registers a document for every module it hosts;
/// only those whose module mapped an API are served.
/// </summary>
public static class ModuleOpenApi
{
    public const string BearerScheme = "bearer";

    /// <summary>The pattern the documents are served on (<c>documentName</c> is what Microsoft.AspNetCore.OpenApi resolves).</summary>
    public const string DocumentRoute = "/openapi/{documentName}.json";

    /// <summary>Registers the document of one hosted module (called by the host for every module it adds).</summary>
    public static IHostApplicationBuilder AddModuleOpenApi(this IHostApplicationBuilder builder, string module)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(module);
        builder.Services.TryAddSingleton<ModuleApiCatalog>();
        builder.Services.AddOpenApi(module, options =>
        {
            // Only the module's own group: the default would also take every endpoint that has no group name.
            options.ShouldInclude = description => string.Equals(description.GroupName, module, StringComparison.Ordinal);
            options.AddDocumentTransformer(new ModuleDocumentTransformer(module));
            options.AddOperationTransformer(new ModuleOperationTransformer());
            options.AddSchemaTransformer(new ProblemDetailsSchemaTransformer());
        });
        return builder;
    }

    /// <summary>
    /// Tags a module's route group for its document: the group name, a tag per feature (the declaring <c>XxxApi</c>
    /// class, unless the endpoint has tags), and the 401/403 problems every protected endpoint can answer.
    /// </summary>
    internal static RouteGroupBuilder DescribeAs(this RouteGroupBuilder group, IEndpointRouteBuilder app, string module, string prefix)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(module);
        app.ServiceProvider.GetService<ModuleApiCatalog>()?.Add(new ModuleApi(module, prefix));
        group.WithGroupName(module);
        ((IEndpointConventionBuilder)group).Finally(endpoint =>
        {
            var metadata = endpoint.Metadata;
            if (!metadata.OfType<ITagsMetadata>().Any() && metadata.OfType<MethodInfo>().FirstOrDefault() is { } method)
                metadata.Add(new TagsAttribute(FeatureOf(method)));
            if (metadata.OfType<IAllowAnonymous>().Any())
                return;
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
            if (policies.Count == 0)
                return;
            AddProblem(metadata, StatusCodes.Status401Unauthorized);
            if (policies.Any(p => p != CloudPolicies.Authenticated))
                AddProblem(metadata, StatusCodes.Status403Forbidden);
        });
        return group;
    }

    /// <summary>
    /// Describes the <c>CloudPortal-Project</c> header on these endpoints (those whose route has no <c>{projectId}</c>):
    /// users name the project they act in with it; cloud admins and services may leave it out.
    /// </summary>
    public static TBuilder WithProjectHeader<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ProjectHeaderMetadata.Instance);

    /// <summary>The problem-details responses an endpoint answers besides 401/403 from its policies: <c>.ProducesProblems(400, 404, 409)</c>.</summary>
    public static TBuilder ProducesProblems<TBuilder>(this TBuilder builder, params int[] statuses) where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
            builder.ProducesProblem(status);
        return builder;
    }

    /// <summary>Serves <c>/openapi/{module}.json</c> for every module API mapped in this process; any other name is a 404.</summary>
    public static WebApplication MapModuleOpenApi(this WebApplication app)
    {
        // A process that hosts no module (the agent) registers no document and serves none.
        if (app.Services.GetService<ModuleApiCatalog>() is not { } catalog)
            return app;
        app.MapOpenApi(DocumentRoute).Add(endpoint =>
        {
            var serve = endpoint.RequestDelegate ?? throw new InvalidOperationException("MapOpenApi mapped no request delegate");
            endpoint.RequestDelegate = context =>
            {
                // A hosted module without a REST API has a registered document but no endpoints: not served.
                if (catalog.Contains(context.GetRouteValue("documentName") as string))
                    return serve(context);
                context.Response.StatusCode = StatusCodes.Status404NotFound;   // the status code pages write the problem
                return Task.CompletedTask;
            };
        });
        return app;
    }

    private static void AddProblem(IList<object> metadata, int status)
    {
        if (!metadata.OfType<IProducesResponseTypeMetadata>().Any(p => p.StatusCode == status))
            metadata.Add(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), ["application/problem+json"]));
    }

    /// <summary><c>ImagesApi</c> → <c>Images</c>; a lambda's closure class counts as the class that declares it.</summary>
    private static string FeatureOf(MethodInfo method)
    {
        var type = method.DeclaringType;
        while (type is { DeclaringType: not null } && (type.IsDefined(typeof(CompilerGeneratedAttribute)) || type.Name.StartsWith('<')))
            type = type.DeclaringType;
        var name = type?.Name ?? "Api";
        return name.Length > 3 && name.EndsWith("Api", StringComparison.Ordinal) ? name[..^3] : name;
    }
}
