using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudPortal.Testing;
using Xunit;

namespace CloudPortal.Compute.Tests.Quotas;

/// <summary>
/// Quota is checked in the transaction that inserts the instances, under the project's lock: however many launches
/// race, a limit of Q admits exactly Q — on SQLite (all-in-one) and on PostgreSQL (distributed). Same for client tokens:
/// concurrent retries of one request launch once.
/// </summary>
public abstract class QuotaRaceTests(SimulatedCloud fixture)
{
    [Fact]
    public async Task A_hundred_concurrent_launches_against_an_instances_limit_of_10_admit_exactly_10()
    {
        var (project, token) = await fixture.FreshProjectAsync("race-instances");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        await Admin.SetQuotaAsync(fixture.Cloud, fixture.Tenants.AdminToken, project, "instances", 10, member);

        var outcomes = await RaceAsync(member, "m1.tiny");

        Assert.Equal(10, outcomes.Count(o => o.Status == HttpStatusCode.Accepted));
        var refusals = outcomes.Where(o => o.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(90, refusals.Count);
        Assert.All(refusals, r => AssertRefusal(r, "instances", limit: 10));
        Assert.Equal(10, await CountAsync(member));
    }

    [Fact]
    public async Task A_hundred_concurrent_launches_against_a_cores_limit_of_10_admit_exactly_the_5_two_core_instances_that_fit()
    {
        var (project, token) = await fixture.FreshProjectAsync("race-cores");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        await Admin.SetQuotaAsync(fixture.Cloud, fixture.Tenants.AdminToken, project, "cores", 10, member);

        var outcomes = await RaceAsync(member, "m1.medium");

        Assert.Equal(5, outcomes.Count(o => o.Status == HttpStatusCode.Accepted));
        var refusals = outcomes.Where(o => o.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(95, refusals.Count);
        Assert.All(refusals, r => AssertRefusal(r, "cores", limit: 10));
        Assert.Equal(5, await CountAsync(member));
        var quota = await member.QuotaAsync();
        Assert.Equal(10, ComputeClient.Line(quota, "cores", "inUse") + ComputeClient.Line(quota, "cores", "reserved"));
    }

    [Fact]
    public async Task A_min_max_launch_takes_what_fits_between_the_two_or_nothing()
    {
        var (project, token) = await fixture.FreshProjectAsync("min-max");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        await Admin.SetQuotaAsync(fixture.Cloud, fixture.Tenants.AdminToken, project, "instances", 4, member);

        var first = await member.LaunchOkAsync(new { name = "batch", flavorId = "m1.tiny", imageId = fixture.PublicImage, minCount = 1, maxCount = 3 });
        Assert.Equal(3, first.Count);
        var second = await member.LaunchOkAsync(new { name = "batch", flavorId = "m1.tiny", imageId = fixture.PublicImage, minCount = 1, maxCount = 3 });
        Assert.Single(second);
        using var refused = await member.LaunchAsync(new { name = "batch", flavorId = "m1.tiny", imageId = fixture.PublicImage, minCount = 1, maxCount = 3 });
        AssertRefusal(new Outcome(refused.StatusCode, await refused.Content.ReadAsStringAsync()), "instances", limit: 4);
        Assert.Equal(4, await CountAsync(member));
    }

    [Fact]
    public async Task Ten_concurrent_requests_with_one_client_token_launch_once_and_another_body_with_it_is_a_conflict()
    {
        var (project, token) = await fixture.FreshProjectAsync("idempotent");
        using var member = new ComputeClient(fixture.Cloud, token, project);
        var body = new { name = "once", flavorId = "m1.tiny", imageId = fixture.PublicImage, clientToken = "token-" + Guid.NewGuid().ToString("N") };

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var response = await member.LaunchAsync(body);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var launched = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (Reservation: launched.GetProperty("reservationId").GetGuid(), Instance: launched.GetProperty("instances").EnumerateArray().Single().GetProperty("id").GetGuid());
        }));

        Assert.Single(answers.Distinct());
        Assert.Equal(1, await CountAsync(member));
        await ProblemAssert.ExpectAsync(member.LaunchAsync(body with { name = "other" }), 409, "idempotent_parameter_mismatch");
        Assert.Equal(1, await CountAsync(member));
    }

    private sealed record Outcome(HttpStatusCode Status, string Body);

    private async Task<List<Outcome>> RaceAsync(ComputeClient member, string flavor)
    {
        using var start = new SemaphoreSlim(0);
        var launches = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.WaitAsync();
            using var response = await member.LaunchAsync(new { name = $"racer-{i}", flavorId = flavor, imageId = fixture.PublicImage });
            return new Outcome(response.StatusCode, await response.Content.ReadAsStringAsync());
        }).ToList();
        start.Release(100);
        return [.. await Task.WhenAll(launches)];
    }

    private static void AssertRefusal(Outcome outcome, string resource, long limit)
    {
        Assert.True(outcome.Status == HttpStatusCode.Forbidden, $"expected 403 quota_exceeded, got {(int)outcome.Status}: {outcome.Body}");
        var problem = JsonDocument.Parse(outcome.Body).RootElement;
        Assert.Equal("quota_exceeded", problem.GetProperty("code").GetString());
        Assert.Equal(resource, problem.GetProperty("resource").GetString());
        Assert.Equal(limit, problem.GetProperty("limit").GetInt64());
        Assert.True(problem.GetProperty("inUse").GetInt64() <= limit);
        Assert.True(problem.GetProperty("requested").GetInt64() > 0);
        Assert.Contains(resource, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private static async Task<int> CountAsync(ComputeClient member) =>
        (await member.Http.GetFromJsonAsync<JsonElement>("compute/v1/instances?limit=1000")).GetProperty("instances").GetArrayLength();
}

[Collection(SimulatedAllInOneCollection.Name)]
public sealed class QuotaRaceOnSqliteTests(SimulatedAllInOne fixture) : QuotaRaceTests(fixture);

public sealed class QuotaRaceOnPostgresTests(SimulatedDistributed fixture) : QuotaRaceTests(fixture), IClassFixture<SimulatedDistributed>;
