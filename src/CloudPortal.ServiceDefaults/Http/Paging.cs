using System.Globalization;
using CloudPortal.ServiceDefaults.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.ServiceDefaults.Http;

/// <summary>A row with an id clients see and an insertion order to page by (the id itself orders differently per provider).</summary>
public interface ISequenced
{
    long Sequence { get; }

    Guid Id { get; }
}

/// <summary>One page of a list and the link to the next, or the problem with the paging parameters.</summary>
public sealed record Page<T>(List<T> Items, string? Next, ProblemHttpResult? Problem);

/// <summary>
/// Marker paging, as every list of CloudPortal's REST APIs pages: <c>?limit=N&amp;marker=&lt;id of the last item seen&gt;</c>,
/// and a <c>next</c> link in the answer while more items follow.
/// </summary>
public static class Paging
{
    public const int DefaultLimit = 25;
    public const int MaxLimit = 1000;

    /// <summary>The page size asked for, or a 400 <c>invalid_limit</c>.</summary>
    public static ProblemHttpResult? PageSize(int? limit, out int pageSize)
    {
        pageSize = limit ?? DefaultLimit;
        return pageSize is < 1 or > MaxLimit
            ? Problems.BadRequest("invalid_limit", "Invalid limit", $"'limit' is 1-{MaxLimit}.")
            : null;
    }

    /// <summary>
    /// The page of <paramref name="query"/> after <paramref name="marker"/> (the id of the last item seen), in insertion
    /// order or newest first; the marker must name an item of the same (filtered) list.
    /// </summary>
    public static async Task<Page<T>> PageAsync<T>(this IQueryable<T> query, HttpRequest request, int? limit, Guid? marker, bool newestFirst,
        CancellationToken cancellationToken) where T : class, ISequenced
    {
        ArgumentNullException.ThrowIfNull(request);
        if (PageSize(limit, out var pageSize) is { } problem)
            return new Page<T>([], null, problem);
        if (marker is not null)
        {
            var at = await query.Where(x => x.Id == marker).Select(x => (long?)x.Sequence).SingleOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            if (at is null)
                return new Page<T>([], null, InvalidMarker(marker));
            query = newestFirst ? query.Where(x => x.Sequence < at) : query.Where(x => x.Sequence > at);
        }
        var ordered = newestFirst ? query.OrderByDescending(x => x.Sequence) : query.OrderBy(x => x.Sequence);
        var page = await ordered.Take(pageSize + 1).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new Page<T>(page, Next(page, pageSize, request, x => x.Id.ToString()), null);
    }

    public static ProblemHttpResult InvalidMarker(object marker) =>
        Problems.BadRequest("invalid_marker", "Invalid marker", $"No item {marker} to page from in this list.");

    /// <summary>
    /// Cuts the one extra item a query fetched (<c>Take(pageSize + 1)</c>) and, when it was there, gives the link to the next
    /// page: the same path and query with <c>limit</c> and <c>marker</c> replaced.
    /// </summary>
    public static string? Next<T>(List<T> fetched, int pageSize, HttpRequest request, Func<T, string> marker)
    {
        ArgumentNullException.ThrowIfNull(fetched);
        ArgumentNullException.ThrowIfNull(request);
        if (fetched.Count <= pageSize)
            return null;
        fetched.RemoveRange(pageSize, fetched.Count - pageSize);
        var query = QueryString.Create(request.Query
            .Where(q => q.Key is not ("marker" or "limit"))
            .SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
            .Append(new("limit", pageSize.ToString(CultureInfo.InvariantCulture)))
            .Append(new("marker", marker(fetched[^1]))));
        return request.PathBase + request.Path + query.ToUriComponent();
    }
}
