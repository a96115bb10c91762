using System.Globalization;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// The page of <paramref name="query"/> in the order of a unique name (<paramref name="key"/>: a project's, a user's, a
    /// host's) after the item <paramref name="isMarker"/> picks (the item named by <c>marker</c>, null on the first page).
    /// The name orders as the database collates it, the same for every page; <paramref name="markerOf"/> gives the
    /// <c>marker</c> of the next link.
    /// </summary>
    public static async Task<Page<T>> PageByAsync<T>(this IQueryable<T> query, Expression<Func<T, string>> key, Expression<Func<T, bool>>? isMarker,
        Func<T, string> markerOf, HttpRequest request, int? limit, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(request);
        if (PageSize(limit, out var pageSize) is { } problem)
            return new Page<T>([], null, problem);
        if (isMarker is not null)
        {
            var at = await query.Where(isMarker).Select(key).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
            if (at is null)
                return new Page<T>([], null, InvalidMarker(request.Query["marker"].ToString()));
            query = query.Where(After(key, at));
        }
        var page = await query.OrderBy(key).Take(pageSize + 1).ToListAsync(cancellationToken).ConfigureAwait(false);
        return new Page<T>(page, Next(page, pageSize, request, markerOf), null);
    }

    /// <summary>
    /// The page of a list already in memory and in order (one the module assembles, or small by nature) after the item
    /// whose <paramref name="id"/> is <paramref name="marker"/>.
    /// </summary>
    public static Page<T> PageOf<T>(IEnumerable<T> ordered, Func<T, string> id, string? marker, HttpRequest request, int? limit)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        ArgumentNullException.ThrowIfNull(id);
        if (PageSize(limit, out var pageSize) is { } problem)
            return new Page<T>([], null, problem);
        var items = ordered as IReadOnlyList<T> ?? ordered.ToList();
        var start = 0;
        if (marker is not null)
        {
            var at = items.Select(id).ToList().IndexOf(marker);
            if (at < 0)
                return new Page<T>([], null, InvalidMarker(marker));
            start = at + 1;
        }
        var page = items.Skip(start).Take(pageSize + 1).ToList();
        return new Page<T>(page, Next(page, pageSize, request, id), null);
    }

    /// <summary><c>key(x) &gt; after</c>, which EF translates to SQL; the value travels as a parameter, not as SQL text.</summary>
    private static Expression<Func<T, bool>> After<T>(Expression<Func<T, string>> key, string after)
    {
        var compare = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;
        var value = Expression.Field(Expression.Constant(new StrongBox<string>(after)), nameof(StrongBox<string>.Value));
        return Expression.Lambda<Func<T, bool>>(
            Expression.GreaterThan(Expression.Call(compare, key.Body, value), Expression.Constant(0)), key.Parameters);
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
