using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace CloudPortal.ServiceDefaults.OpenApi;

/// <summary>Title, version and the bearer scheme of one module's document.</summary>
internal sealed class ModuleDocumentTransformer(string module) : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var prefixes = context.ApplicationServices.GetRequiredService<ModuleApiCatalog>().Apis.Where(a => a.Module == module).Select(a => a.Prefix).ToList();
        var prefix = prefixes.FirstOrDefault() ?? "/";
        var authority = context.ApplicationServices.GetRequiredService<IConfiguration>()[$"{IdentityClientOptions.Section}:Authority"];
        var discovery = string.IsNullOrWhiteSpace(authority)
            ? "`/.well-known/openid-configuration` on the Identity module's URL"
            : $"`{authority.TrimEnd('/')}/.well-known/openid-configuration`";
        document.Info = new OpenApiInfo
        {
            Title = $"CloudPortal {module} API",
            Version = prefix.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "v1",
            Description = $"The REST API of CloudPortal's {module} module, under {string.Join(", ", prefixes.Select(p => $"`{p}`"))}. Every error is RFC 9457 problem details " +
                "(`application/problem+json`) with a stable `code` to switch on and a `traceId` to quote to an operator. " +
                $"Access tokens are JWTs from the Identity module's OpenID Connect server (discovery: {discovery}).",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ModuleOpenApi.BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = $"`Authorization: Bearer <access token>`: authorization code + PKCE for users, client credentials for services; discovery: {discovery}.",
        };
        return Task.CompletedTask;
    }
}

/// <summary>Per operation: the bearer requirement and who may call (from the endpoint's policies), and the project header.</summary>
internal sealed class ModuleOperationTransformer : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, string> Callers = new(StringComparer.Ordinal)
    {
        [CloudPolicies.Authenticated] = "any signed-in user or service; what it sees is scoped to the caller",
        [CloudPolicies.Reader] = "readers, members and admins of the request's project",
        [CloudPolicies.Member] = "members and admins of the request's project",
        [CloudPolicies.Admin] = "admins of the request's project",
        [CloudPolicies.CloudAdmin] = "cloud admins",
        [CloudPolicies.Service] = "services (client-credentials tokens)",
        [CloudPolicies.CloudAdminOrService] = "cloud admins and services (client-credentials tokens)",
    };

    private static readonly HashSet<string> ProjectPolicies = [CloudPolicies.Reader, CloudPolicies.Member, CloudPolicies.Admin];

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).OfType<string>().Distinct().ToList();
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            // A route that checks its own credential (a signed URL, a console ticket): no token needed, an empty requirement says so.
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement());
            const string who = "Who may call: anyone presenting the credential this request carries itself (described above); no bearer token is needed.";
            operation.Description = string.IsNullOrWhiteSpace(operation.Description) ? who : $"{operation.Description}\n\n{who}";
        }
        else if (policies.Count > 0)
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ModuleOpenApi.BearerScheme, context.Document)] = [] });
            // The group's "authenticated" is implied by any narrower policy.
            var effective = policies.Count > 1 ? policies.Where(p => p != CloudPolicies.Authenticated).ToList() : policies;
            var who = string.Join("; and ", effective.Select(p => Callers.GetValueOrDefault(p, $"policy `{p}`")));
            if (effective.Any(ProjectPolicies.Contains))
                who += " (cloud admins act as admins of every project)";
            operation.Description = string.IsNullOrWhiteSpace(operation.Description)
                ? $"Who may call: {who}."
                : $"{operation.Description}\n\nWho may call: {who}.";
        }

        var projectInRoute = context.Description.ParameterDescriptions.Any(p => p.Name == "projectId" && p.Source == BindingSource.Path);
        if (metadata.OfType<ProjectHeaderMetadata>().Any() && !projectInRoute)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = CloudClaims.ProjectHeader,
                In = ParameterLocation.Header,
                Required = false,
                Description = "The id of the project the request acts in. Users must name it; cloud admins and services may leave it out.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid" },
            });
        }
        return Task.CompletedTask;
    }
}

/// <summary>CloudPortal's problem details always carry <c>code</c> (and <c>traceId</c>): say so in the schema.</summary>
internal sealed class ProblemDetailsSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonTypeInfo.Type;
        if (type != typeof(ProblemDetails) && type != typeof(HttpValidationProblemDetails))
            return Task.CompletedTask;
        schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
        schema.Properties["code"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "A stable, machine-readable code, e.g. `image_protected`; where an endpoint sets none it follows from the status (`not_found`, `forbidden`, ...).",
        };
        schema.Properties["traceId"] = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Description = "The W3C trace id of the request, to quote to an operator.",
        };
        schema.Required ??= new HashSet<string>();
        schema.Required.Add("code");
        return Task.CompletedTask;
    }
}
