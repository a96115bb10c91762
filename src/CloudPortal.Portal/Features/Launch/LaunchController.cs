using System.ComponentModel.DataAnnotations;
using System.Text;
using CloudPortal.Compute.Flavors;
using CloudPortal.Compute.Instances;
using CloudPortal.Compute.KeyPairs;
using CloudPortal.Compute.ServerGroups;
using CloudPortal.Contracts.Scheduler;
using CloudPortal.Identity.Quotas;
using CloudPortal.Images.Catalog;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Features.Shared;
using MassTransit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace CloudPortal.Portal.Features.Launch;

public sealed class LaunchForm
{
    [Required(ErrorMessage = "Give the instance a name."), StringLength(255)]
    public string? Name { get; set; }

    [Range(1, 100, ErrorMessage = "Launch between 1 and 100 instances at once.")]
    public int Count { get; set; } = 1;

    [Required(ErrorMessage = "Choose an image.")]
    public Guid? ImageId { get; set; }

    [Required(ErrorMessage = "Choose a flavor.")]
    public string? FlavorId { get; set; }

    public string? KeyName { get; set; }

    [StringLength(65536, ErrorMessage = "User data is at most 64 KiB.")]
    public string? UserData { get; set; }

    public Guid? ServerGroupId { get; set; }

    public string? AvailabilityZone { get; set; }
}

public sealed record LaunchModel(
    LaunchForm Form, IReadOnlyList<ImageView> Images, IReadOnlyList<FlavorFitRow> Flavors, IReadOnlyList<KeyPairView> KeyPairs,
    IReadOnlyList<ServerGroupView> ServerGroups, string? CapacityUnknown, bool CanCreateKeyPairs);

/// <summary>
/// The launch wizard: one form with a flavor table in which every row says, before the click, whether the count
/// fits the quota and the hosts. A refused launch shows Compute's sentence on the same form.
/// </summary>
public sealed class LaunchController : PortalController
{
    [HttpGet("/launch")]
    public async Task<IActionResult> Index([FromQuery] LaunchForm form, CancellationToken cancellationToken)
    {
        ModelState.Clear();   // the query only pre-fills; nothing was submitted yet
        return View(await ModelAsync(form, cancellationToken));
    }

    [HttpPost("/launch")]
    public async Task<IActionResult> Launch([FromForm] LaunchForm form, CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            try
            {
                var userData = string.IsNullOrEmpty(form.UserData) ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(form.UserData));
                var launched = await Api.SendAsync<LaunchResult>(HttpMethod.Post, "compute", "compute/v1/instances", new LaunchInstancesRequest(
                    form.Name, form.FlavorId, form.ImageId, Blank(form.KeyName), userData, null, null, form.ServerGroupId, Blank(form.AvailabilityZone),
                    form.Count, form.Count, null), cancellationToken);
                return Done($"Launching {launched.Instances.Count} instance{(launched.Instances.Count == 1 ? "" : "s")}.", "Index", new { controller = "Instances" });
            }
            catch (ApiException refusal) when (refusal.Status is 400 or 403 or 409 or 503)
            {
                Refused(refusal);
            }
        }
        Response.StatusCode = 422;
        return View("Index", await ModelAsync(form, cancellationToken));
    }

    private async Task<LaunchModel> ModelAsync(LaunchForm form, CancellationToken cancellationToken)
    {
        var projectId = Projects.CurrentId;
        var images = Api.GetAsync<ImagePage>("images", "images/v2/images?status=active&limit=1000", cancellationToken);
        var flavors = Api.GetAsync<FlavorPage>("compute", "compute/v1/flavors?limit=1000", cancellationToken);
        var keyPairs = Api.GetAsync<KeyPairPage>("compute", "compute/v1/key-pairs?limit=1000", cancellationToken);
        var groups = Api.GetAsync<ServerGroupPage>("compute", "compute/v1/server-groups?limit=1000", cancellationToken);
        var quota = projectId is { } id ? Api.GetAsync<ProjectQuota>("identity", $"identity/v1/projects/{id}/quota", cancellationToken) : Task.FromResult<ProjectQuota>(null!);
        await Task.WhenAll(images, flavors, keyPairs, groups, quota);

        var (fits, capacityUnknown) = await CapacityAsync(projectId, form.AvailabilityZone, flavors.Result.Flavors, cancellationToken);
        var count = Math.Max(1, form.Count);
        var rows = flavors.Result.Flavors
            .Select(f => new FlavorFitRow(f, LaunchFit.QuotaProblem(quota.Result, f, count),
                LaunchFit.CapacityProblem(fits?.GetValueOrDefault(f.Id.ToString()), count), fits?.GetValueOrDefault(f.Id.ToString())?.Count))
            .ToList();
        return new LaunchModel(form, images.Result.Images, rows, keyPairs.Result.KeyPairs, groups.Result.ServerGroups, capacityUnknown, Projects.CanChange);
    }

    /// <summary>The Scheduler's fit check over the bus; when it does not answer, the table says capacity is unknown rather than guessing.</summary>
    private async Task<(Dictionary<string, FlavorFit>?, string?)> CapacityAsync(Guid? projectId, string? zone, IReadOnlyList<FlavorView> flavors,
        CancellationToken cancellationToken)
    {
        if (projectId is null || flavors.Count == 0)
            return (null, null);
        try
        {
            var client = HttpContext.RequestServices.GetRequiredService<IRequestClient<CheckFit>>();
            var request = new CheckFit(projectId.Value, Blank(zone), flavors
                .Select(f => new FlavorToFit(f.Id.ToString(), new PlacementResources(f.VCpus, f.RamMb, f.DiskGb + f.EphemeralGb), f.ExtraSpecs)).ToList());
            var report = await client.GetResponse<FitReport>(request, cancellationToken, RequestTimeout.After(s: 5));
            return (report.Message.Flavors.ToDictionary(f => f.Flavor), null);
        }
        catch (RequestTimeoutException)
        {
            return (null, "The scheduler did not answer, so the table cannot say which flavors fit the hosts now.");
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
