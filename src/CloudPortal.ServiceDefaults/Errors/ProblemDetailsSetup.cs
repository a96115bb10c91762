using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.ServiceDefaults.Errors;

public static class ProblemDetailsSetup
{
    /// <summary>
    /// One error shape for every REST module: RFC 9457 problem details with a stable <c>code</c> a client
    /// can switch on and the trace id to quote to an operator. Unhandled exceptions never leak a stack trace.
    /// </summary>
    public static IServiceCollection AddCloudPortalProblemDetails(this IServiceCollection services) =>
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Extensions.TryAdd("code", CodeFor(problem.Status ?? context.HttpContext.Response.StatusCode));
            problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? context.HttpContext.TraceIdentifier);
        });

    public static WebApplication UseCloudPortalProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The default code when an endpoint did not set a more specific one.</summary>
    public static string CodeFor(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "bad_request",
        StatusCodes.Status401Unauthorized => "unauthenticated",
        StatusCodes.Status403Forbidden => "forbidden",
        StatusCodes.Status404NotFound => "not_found",
        StatusCodes.Status405MethodNotAllowed => "method_not_allowed",
        StatusCodes.Status409Conflict => "conflict",
        StatusCodes.Status413PayloadTooLarge => "payload_too_large",
        StatusCodes.Status415UnsupportedMediaType => "unsupported_media_type",
        StatusCodes.Status422UnprocessableEntity => "validation_failed",
        StatusCodes.Status429TooManyRequests => "too_many_requests",
        StatusCodes.Status503ServiceUnavailable => "unavailable",
        _ when status >= 500 => "internal_error",
        _ => "error",
    };
}

/// <summary>Typed results for module endpoints: <c>return Problems.Conflict("image_protected", "...")</c>.</summary>
public static class Problems
{
    public static ProblemHttpResult Of(int status, string code, string title, string? detail = null) =>
        Of(status, code, title, detail, extensions: null);

    /// <summary>A problem with further members a client can read (e.g. a quota refusal's <c>resource</c>, <c>limit</c>, <c>inUse</c>).</summary>
    public static ProblemHttpResult Of(int status, string code, string title, string? detail, IEnumerable<KeyValuePair<string, object?>>? extensions)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = $"https://cloudportal.dev/problems/{code}",
            Extensions = { ["code"] = code },
        };
        foreach (var (key, value) in extensions ?? [])
            problem.Extensions[key] = value;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult BadRequest(string code, string title, string? detail = null) => Of(StatusCodes.Status400BadRequest, code, title, detail);

    public static ProblemHttpResult NotFound(string code, string title, string? detail = null) => Of(StatusCodes.Status404NotFound, code, title, detail);

    public static ProblemHttpResult Conflict(string code, string title, string? detail = null) => Of(StatusCodes.Status409Conflict, code, title, detail);

    public static ProblemHttpResult Forbidden(string code, string title, string? detail = null) => Of(StatusCodes.Status403Forbidden, code, title, detail);
}
