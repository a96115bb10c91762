using System.Text.RegularExpressions;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>
/// EC2's filters over items an action has already turned into (name → values) facts: every filter must match (AND),
/// any of a filter's values may (OR); values take <c>*</c> and <c>?</c> wildcards; <c>tag:Key</c>, <c>tag-key</c> and
/// <c>tag-value</c> everywhere. An unknown filter name is InvalidParameterValue, as AWS answers.
/// </summary>
public static class Ec2Filters
{
    public static IReadOnlyList<T> Apply<T>(IEnumerable<T> items, IReadOnlyList<Ec2Filter> filters, IReadOnlySet<string> known,
        Func<T, string, IEnumerable<string?>> facts, Func<T, IReadOnlyDictionary<string, string>> tags)
    {
        foreach (var filter in filters)
        {
            if (!known.Contains(filter.Name) && !filter.Name.StartsWith("tag:", StringComparison.Ordinal) && filter.Name is not ("tag-key" or "tag-value"))
                throw Ec2Errors.UnknownFilter(filter.Name);
            if (filter.Values.Count == 0)
                throw Ec2Exception.Invalid($"The filter '{Ec2Parameters.Clip(filter.Name)}' has no values.");
        }
        var patterns = filters.Select(f => (f.Name, Values: f.Values.Select(Pattern).ToList())).ToList();
        return items.Where(item => patterns.All(f =>
        {
            IEnumerable<string?> values = f.Name switch
            {
                "tag-key" => tags(item).Keys,
                "tag-value" => tags(item).Values,
                _ when f.Name.StartsWith("tag:", StringComparison.Ordinal) => tags(item).TryGetValue(f.Name[4..], out var v) ? [v] : [],
                _ => facts(item, f.Name),
            };
            return values.Any(v => v is not null && f.Values.Any(p => Matches(p, v)));
        })).ToList();
    }

    private static bool Matches(Regex pattern, string value)
    {
        try
        {
            return pattern.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            throw Ec2Exception.Invalid("A filter value's wildcards are too complex.");
        }
    }

    private static Regex Pattern(string value) =>
        new("^" + Regex.Escape(value).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
}
