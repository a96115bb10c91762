using CloudPortal.Portal.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Core.Infrastructure;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.Extensions.Logging;

namespace CloudPortal.Portal.Features.Shared;

/// <summary>What a page shows when it fails: a module's refusal as its sentence, anything else as an apology with a
/// request id for the admins' log. Never a stack trace.</summary>
public sealed partial class PortalErrorFilter(IModelMetadataProvider metadata, ILogger<PortalErrorFilter> log) : IExceptionFilter
{
    public void OnException(ExceptionContext context)
    {
        if ((context.ActionDescriptor.RouteValues.TryGetValue("area", out var area) ? area : null) != PortalController.Area || context.ExceptionHandled)
            return;
        var requestId = context.HttpContext.TraceIdentifier;
        var (status, model) = context.Exception switch
        {
            ApiException { Status: 404 } => (404, new ErrorModel("Not found", "It does not exist, or not in this project.", null, requestId)),
            ApiException { Status: 401 } => (401, new ErrorModel("Signed out", "Your session has ended; sign in again.", null, requestId)),
            ApiException refusal => (refusal.Status, new ErrorModel("Refused", refusal.Message, refusal.Code, requestId)),
            HttpRequestException or TaskCanceledException => (503, new ErrorModel("Unavailable", "A CloudPortal service did not answer; try again in a moment.", null, requestId)),
            _ => (500, new ErrorModel("Something went wrong", "The page failed. The administrators can find what happened in the log under the request id below.", null, requestId)),
        };
        if (status >= 500)
            LogFailure(log, context.Exception, requestId);
        SecurityHeaders.Apply(context.HttpContext);
        context.Result = new ViewResult
        {
            ViewName = status == 404 ? "NotFound" : "Error",
            StatusCode = status,
            ViewData = new ViewDataDictionary(metadata, context.ModelState) { Model = model },
        };
        context.ExceptionHandled = true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A portal page failed (request {RequestId})")]
    private static partial void LogFailure(ILogger logger, Exception exception, string requestId);
}

public sealed record ErrorModel(string Title, string Message, string? Code, string RequestId);

/// <summary>
/// A form posted without its antiforgery token (forged, or from a page older than the session) gets a page that
/// says so, with status 400, instead of the bare status a JSON API would answer.
/// </summary>
public sealed class AntiforgeryRefusalFilter(IModelMetadataProvider metadata) : IAlwaysRunResultFilter
{
    public void OnResultExecuting(ResultExecutingContext context)
    {
        if (context.Result is not IAntiforgeryValidationFailedResult
            || !context.ActionDescriptor.RouteValues.TryGetValue("area", out var area) || area != PortalController.Area)
            return;
        SecurityHeaders.Apply(context.HttpContext);
        context.Result = new ViewResult
        {
            ViewName = "Error",
            StatusCode = 400,
            ViewData = new ViewDataDictionary(metadata, context.ModelState)
            {
                Model = new ErrorModel("Form refused", "The form was not sent from this portal's page, or the page is too old. Reload the page and try again.",
                    "antiforgery_failed", context.HttpContext.TraceIdentifier),
            },
        };
    }

    public void OnResultExecuted(ResultExecutedContext context)
    {
    }
}
