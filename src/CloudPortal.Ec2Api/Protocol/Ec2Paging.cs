using System.Text;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// MaxResults / NextToken (EC2-API.md §1.6): the token names the sort key of the last item returned, so a page
/// starts after it even when items came or went in between, and the same filters give the same next page. The last
/// page has no token.
/// </summary>
public static class Ec2Paging
{
    public static (IReadOnlyList<T> Page, string? NextToken) Page<T>(IReadOnlyList<T> items, Func<T, string> key, Ec2Parameters parameters,
        int minResults, int maxResults)
    {
        var max = parameters.Number("MaxResults", minResults, maxResults);
        var after = parameters.Value("NextToken") is { } token ? Decode(token) : null;
        var ordered = items.OrderBy(key, StringComparer.Ordinal).ToList();
        var start = after is null ? 0 : ordered.FindIndex(i => string.CompareOrdinal(key(i), after) > 0) is var index and >= 0 ? index : ordered.Count;
        var size = max ?? ordered.Count;
        var page = ordered.Skip(start).Take(size).ToList();
        var more = start + page.Count < ordered.Count && max is not null;
        return (page, more ? Encode(key(page[^1])) : null);
    }

    private static string Encode(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes("v1:" + key));

    private static string Decode(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("v1:", StringComparison.Ordinal))
                return text[3..];
        }
        catch (FormatException)
        {
        }
        throw new Ec2Exception("InvalidPaginationToken", "The pagination token is not valid.");
    }
}
