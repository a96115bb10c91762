using System.Globalization;

namespace CloudPortal.Ec2Api.Protocol;

/// <summary>One EC2 filter: <c>Filter.N.Name</c> and its <c>Filter.N.Value.M</c>s.</summary>
public sealed record Ec2Filter(string Name, IReadOnlyList<string> Values);

/// <summary>
/// The Query protocol's parameters (EC2-API.md §1.2): flat names, lists as <c>Name.N</c> (1-based), structures as
/// <c>Name.N.Member</c>. Every typed read fails with the EC2 error a client would get from AWS for that value.
/// </summary>
public sealed class Ec2Parameters(IReadOnlyDictionary<string, string> values)
{
    public const int MaxListItems = 1000;

    public IReadOnlyDictionary<string, string> All => values;

    public string? Value(string name) => values.TryGetValue(name, out var value) ? value : null;

    public string Required(string name) => Value(name) is { Length: > 0 } value ? value : throw Ec2Exception.Missing(name);

    public int? Number(string name, int min, int max)
    {
        if (Value(name) is not { } raw)
            return null;
        if (!int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            throw Ec2Exception.Invalid($"Invalid value '{Clip(raw)}' for {name}: an integer is required.");
        if (value < min || value > max)
            throw Ec2Exception.Invalid($"Value ({value}) for parameter {name} is invalid. It must be between {min} and {max}.");
        return value;
    }

    public bool Bool(string name) => Value(name) switch
    {
        null => false,
        var raw when bool.TryParse(raw, out var value) => value,
        var raw => throw Ec2Exception.Invalid($"Invalid value '{Clip(raw)}' for {name}: true or false."),
    };

    /// <summary><c>Name.1</c>, <c>Name.2</c>, ... in order (a gap ends the list, as the SDKs never send one).</summary>
    public IReadOnlyList<string> List(string name)
    {
        var items = new List<string>();
        for (var i = 1; i <= MaxListItems && values.TryGetValue($"{name}.{i}", out var value); i++)
            items.Add(value);
        return items;
    }

    /// <summary>The members of <c>Name.N.*</c>, one parameter set per item.</summary>
    public IReadOnlyList<Ec2Parameters> Structures(string name)
    {
        var items = new List<Ec2Parameters>();
        for (var i = 1; i <= MaxListItems; i++)
        {
            var prefix = $"{name}.{i}.";
            var members = values.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(p => p.Key[prefix.Length..], p => p.Value, StringComparer.Ordinal);
            if (members.Count == 0)
                break;
            items.Add(new Ec2Parameters(members));
        }
        return items;
    }

    public IReadOnlyList<Ec2Filter> Filters() => Structures("Filter")
        .Select(f => new Ec2Filter(f.Value("Name") ?? throw Ec2Exception.Missing("Filter.N.Name"), f.List("Value")))
        .ToList();

    /// <summary><c>Tag.N.Key</c> / <c>Tag.N.Value</c> (the value may be absent: DeleteTags).</summary>
    public IReadOnlyList<(string Key, string? Value)> Tags(string name = "Tag") => Structures(name)
        .Select(t => (t.Value("Key") ?? throw Ec2Exception.Missing($"{name}.N.Key"), t.Value("Value")))
        .ToList();

    public static string Clip(string value) => value.Length <= 64 ? value : value[..64] + "...";
}
