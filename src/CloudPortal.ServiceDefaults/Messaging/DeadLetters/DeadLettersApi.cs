using CloudPortal.ServiceDefaults.Configuration;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CloudPortal.ServiceDefaults.Messaging.DeadLetters;

/// <summary>
/// <c>/messaging/v1/dead-letters</c>, served by every process that hosts modules: the set-aside outbox rows of the
/// modules it hosts, and the bus's dead letters (the broker's <c>*_error</c> queues, the same from every process; or
/// what this process's in-memory bus captured). Cloud admins only. See docs/api/messaging.md.
/// </summary>
public static class DeadLettersApi
{
    public const string Module = "messaging";
    public const string Prefix = "/messaging/v1";

    /// <summary>The sources and the inbox; call after the modules (their databases) are added.</summary>
    public static IHostApplicationBuilder AddDeadLetters(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Properties.TryAdd(typeof(DeadLetterInbox), true))
            return builder;
        builder.Services.AddSingleton<DeadLetterInbox>();
        builder.Services.AddSingleton<IDeadLetterSource, OutboxDeadLetters>();
        if (builder.Configuration.GetCloudPortalOptions().Bus.UsesRabbitMq)
        {
            builder.Services.AddHttpClient(BrokerDeadLetters.ManagementClient, client => client.Timeout = TimeSpan.FromSeconds(15));
            builder.Services.AddSingleton<IDeadLetterSource, BrokerDeadLetters>();
        }
        else
        {
            builder.Services.AddSingleton<CapturedDeadLetters>();
            builder.Services.AddSingleton<IDeadLetterSource>(services => services.GetRequiredService<CapturedDeadLetters>());
        }
        return builder;
    }

    public static IEndpointRouteBuilder MapDeadLetters(this IEndpointRouteBuilder app)
    {
        var api = app.MapModuleApi(Module, Prefix);
        api.MapGet("/dead-letters", List).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("List dead letters (cloud admin)")
            .WithDescription("Messages that could not be delivered: outbox rows the relay set aside in this process's module databases " +
                "(`outbox:{module}`) and messages consumers kept failing on (`queue:{queue}_error`), oldest failure first. " +
                "Paging with `limit` and `marker` (an id).")
            .Produces<DeadLetterPage>().ProducesProblems(400, 503);
        api.MapGet("/dead-letters/{id}", Get).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Show a dead letter with its body (cloud admin)")
            .Produces<DeadLetterDetail>().ProducesProblems(404, 503);
        api.MapPost("/dead-letters/{id}/replay", Replay).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Send a dead letter again (cloud admin)")
            .WithDescription("An outbox row: its failure mark is cleared and the relay tries it again. A queue message: it goes back to " +
                "the queue it failed in and leaves the error queue. Answers 202; the message may fail again and come back.")
            .Produces(StatusCodes.Status202Accepted).ProducesProblems(404, 409, 503);
        api.MapDelete("/dead-letters/{id}", Discard).RequireAuthorization(CloudPolicies.CloudAdmin)
            .WithSummary("Discard a dead letter for good (cloud admin)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(404, 503);
        return app;
    }

    private static async Task<Results<Ok<DeadLetterPage>, ProblemHttpResult>> List(int? limit, string? marker, HttpRequest request, DeadLetterInbox inbox)
    {
        var (all, unavailable) = await ReadAsync(() => inbox.ListAsync(request.HttpContext.RequestAborted));
        if (unavailable is not null)
            return unavailable;
        var page = Paging.PageOf(all!.Select(d => d.DeadLetter), d => d.Id, marker, request, limit);
        return page.Problem is { } problem ? problem : TypedResults.Ok(new DeadLetterPage(page.Items, page.Next));
    }

    private static async Task<Results<Ok<DeadLetterDetail>, ProblemHttpResult>> Get(string id, DeadLetterInbox inbox, HttpContext http)
    {
        var (found, unavailable) = await ReadAsync(() => inbox.FindAsync(id, http.RequestAborted));
        if (unavailable is not null)
            return unavailable;
        return found is null ? NotFound(id) : TypedResults.Ok(found);
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> Replay(string id, DeadLetterInbox inbox, HttpContext http)
    {
        try
        {
            var (outcome, unavailable) = await ReadAsync(() => inbox.ReplayAsync(id, http.RequestAborted));
            if (unavailable is not null)
                return unavailable;
            return outcome == DeadLetterOutcome.Done ? TypedResults.Accepted((string?)null) : NotFound(id);
        }
        catch (DeadLetterReplayException ex)
        {
            return Problems.Conflict("dead_letter_not_replayed", "Not replayed", ex.Message);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Discard(string id, DeadLetterInbox inbox, HttpContext http)
    {
        var (outcome, unavailable) = await ReadAsync(() => inbox.DiscardAsync(id, http.RequestAborted));
        if (unavailable is not null)
            return unavailable;
        return outcome == DeadLetterOutcome.Done ? TypedResults.NoContent() : NotFound(id);
    }

    private static async Task<(T? Value, ProblemHttpResult? Unavailable)> ReadAsync<T>(Func<Task<T>> read)
    {
        try
        {
            return (await read().ConfigureAwait(false), null);
        }
        catch (DeadLettersUnavailableException ex)
        {
            return (default, Problems.Of(StatusCodes.Status503ServiceUnavailable, "dead_letters_unavailable", "Dead letters unavailable", ex.Message));
        }
    }

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound("dead_letter_not_found", "No such dead letter", $"No dead letter '{id}' here (already replayed or discarded, or kept by another process).");
}
