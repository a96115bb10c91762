using System.Text.Json;
using Xunit;

namespace CloudPortal.Testing;

/// <summary>Asserts CloudPortal's error contract: a problem+json body with the expected status and stable code.</summary>
public static class ProblemAssert
{
    public static async Task<JsonElement> ExpectAsync(Task<HttpResponseMessage> call, int status, string code)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("title").GetString()));
        return problem;
    }
}
