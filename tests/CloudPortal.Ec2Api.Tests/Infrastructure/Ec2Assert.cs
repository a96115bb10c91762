using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace CloudPortal.Ec2Api.Tests.Infrastructure;

/// <summary>The id shapes and state vocabulary of the contract.</summary>
public static partial class Ec2Assert
{
    /// <summary>The six instance states, with their codes (the low byte of instanceState/code).</summary>
    public static readonly IReadOnlyDictionary<string, int> StateCodes = new Dictionary<string, int>
    {
        ["pending"] = 0, ["running"] = 16, ["shutting-down"] = 32, ["terminated"] = 48, ["stopping"] = 64, ["stopped"] = 80,
    };

    public static void InstanceId(string? id) => Assert.Matches(InstanceIdPattern(), id ?? "");

    public static void ReservationId(string? id) => Assert.Matches(ReservationIdPattern(), id ?? "");

    public static void ImageId(string? id) => Assert.Matches(ImageIdPattern(), id ?? "");

    public static void KeyPairId(string? id) => Assert.Matches(KeyPairIdPattern(), id ?? "");

    /// <summary>A state object (<c>{"Code": n, "Name": s}</c>) is one of the six, with its own code.</summary>
    public static void State(JsonElement state, params string[] allowed)
    {
        var name = state.GetProperty("Name").GetString()!;
        Assert.True(StateCodes.ContainsKey(name), $"'{name}' is not one of the six EC2 instance states: {state}");
        Assert.Equal(StateCodes[name], state.GetProperty("Code").GetInt32() & 0xFF);
        if (allowed.Length > 0)
            Assert.True(allowed.Contains(name), $"state {name}, expected one of {string.Join(", ", allowed)}");
    }

    /// <summary>Walks a path of property names (and array indexes) through JSON, failing with the document when one is missing.</summary>
    public static JsonElement At(this JsonElement element, params object[] path)
    {
        var current = element;
        foreach (var step in path)
        {
            if (step is int index)
            {
                Assert.True(current.ValueKind == JsonValueKind.Array && current.GetArrayLength() > index, $"no [{index}] in {Clip(current)} (path {string.Join('.', path)} in {Clip(element)})");
                current = current[index];
            }
            else
            {
                var next = default(JsonElement);
                Assert.True(current.ValueKind == JsonValueKind.Object && current.TryGetProperty((string)step, out next),
                    $"no '{step}' in {Clip(current)} (path {string.Join('.', path)} in {Clip(element)})");
                current = next;
            }
        }
        return current;
    }

    public static string Str(this JsonElement element, params object[] path) => element.At(path).GetString() ?? "";

    /// <summary>Tags as a dictionary from the SDK shape <c>[{"Key", "Value"}]</c>.</summary>
    public static Dictionary<string, string> Tags(JsonElement tags) =>
        tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().ToDictionary(t => t.GetProperty("Key").GetString()!, t => t.TryGetProperty("Value", out var v) ? v.GetString() ?? "" : "")
            : [];

    public static string Clip(JsonElement element)
    {
        var text = element.ToString();
        return text.Length > 1500 ? text[..1500] + "…" : text;
    }

    [GeneratedRegex("^i-[0-9a-f]{17}$")]
    private static partial Regex InstanceIdPattern();

    [GeneratedRegex("^r-[0-9a-f]{17}$")]
    private static partial Regex ReservationIdPattern();

    [GeneratedRegex("^ami-[0-9a-f]{17}$")]
    private static partial Regex ImageIdPattern();

    [GeneratedRegex("^key-[0-9a-f]{17}$")]
    private static partial Regex KeyPairIdPattern();
}
