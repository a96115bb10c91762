namespace CloudPortal.Scheduler.Placement.Filters;

/// <summary>
/// A flavor extra spec <c>aggregate_instance_extra_specs:KEY=VALUE</c> admits only hosts in an aggregate whose
/// metadata has KEY with VALUE (an aggregate value may list several, comma-separated). Flavors without such
/// specs pass everywhere.
/// </summary>
public sealed class AggregateMetadataFilter : IHostFilter
{
    public const string Scope = "aggregate_instance_extra_specs:";

    public string Name => "AggregateMetadataFilter";

    public FilterResult Passes(HostState host, PlacementRequest request)
    {
        foreach (var (key, value) in Requirements(request))
        {
            if (!host.Aggregates.Any(a => Has(a, key, value)))
                return FilterResult.Fail("aggregate", $"in no aggregate with {key}={value}");
        }
        return FilterResult.Pass;
    }

    public string Explain(PlacementRequest request, IReadOnlyList<Rejection> rejected)
    {
        var requirements = Requirements(request).Select(r => $"{r.Key}={r.Value}").ToList();
        return $"no host{request.Where} has what this flavor requires ({string.Join(", ", requirements)}): choose another flavor or zone";
    }

    public static IEnumerable<KeyValuePair<string, string>> Requirements(PlacementRequest request) =>
        request.FlavorExtraSpecs
            .Where(s => s.Key.StartsWith(Scope, StringComparison.Ordinal) && s.Key.Length > Scope.Length)
            .Select(s => KeyValuePair.Create(s.Key[Scope.Length..], s.Value.Trim()))
            .OrderBy(s => s.Key, StringComparer.Ordinal);

    private static bool Has(AggregateState aggregate, string key, string value) =>
        aggregate.Metadata.TryGetValue(key, out var values)
        && values.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(value, StringComparer.Ordinal);
}
