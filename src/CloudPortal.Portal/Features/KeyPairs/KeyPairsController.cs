using CloudPortal.Compute.KeyPairs;
using CloudPortal.Portal.Api;
using CloudPortal.Portal.Features.Shared;
using Microsoft.AspNetCore.Mvc;

namespace CloudPortal.Portal.Features.KeyPairs;

public sealed record KeyPairsModel(IReadOnlyList<KeyPairView> KeyPairs, bool CanChange, string? Error);

/// <summary>The project's key pairs: import a public key, or generate one and download its private key once.</summary>
public sealed class KeyPairsController : PortalController
{
    [HttpGet("/key-pairs")]
    public async Task<IActionResult> Index(CancellationToken cancellationToken) => View(await ModelAsync(null, cancellationToken));

    [HttpPost("/key-pairs")]
    public async Task<IActionResult> Create([FromForm] string? name, [FromForm] string? publicKey, [FromForm] string? type, CancellationToken cancellationToken)
    {
        try
        {
            var created = await Api.SendAsync<CreatedKeyPairView>(HttpMethod.Post, "compute", "compute/v1/key-pairs", new
            {
                name, publicKey = string.IsNullOrWhiteSpace(publicKey) ? null : publicKey.Trim(), type = string.IsNullOrWhiteSpace(publicKey) ? type ?? "rsa" : null,
            }, cancellationToken);
            if (created.PrivateKey is { } privateKey)
            {
                // Shown in this response only: the browser saves it now, and it is never available again.
                Response.Headers.CacheControl = "no-store";
                return File(System.Text.Encoding.ASCII.GetBytes(privateKey), "application/x-pem-file", $"{created.Name}.pem");
            }
            if (FromScript)
                return Json(new { created.Name, created.Fingerprint });
            return Done($"Key pair {created.Name} imported ({created.Fingerprint}).", "Index");
        }
        catch (ApiException refusal) when (refusal.Status is 400 or 403 or 409)
        {
            Response.StatusCode = 422;
            if (FromScript)
                return Json(new { refusal.Message });
            return View("Index", await ModelAsync(refusal.Message, cancellationToken));
        }
    }

    [HttpPost("/key-pairs/{name}/delete")]
    public async Task<IActionResult> Delete(string name, CancellationToken cancellationToken)
    {
        await Api.SendAsync(HttpMethod.Delete, "compute", $"compute/v1/key-pairs/{Uri.EscapeDataString(name)}", null, cancellationToken);
        return Done($"Key pair {name} deleted.", "Index");
    }

    /// <summary>The launch wizard posts this form from script and wants an answer it can show in place, not a page.</summary>
    private bool FromScript => Request.Headers.XRequestedWith == "fetch";

    private async Task<KeyPairsModel> ModelAsync(string? error, CancellationToken cancellationToken) =>
        new((await Api.GetAsync<KeyPairPage>("compute", "compute/v1/key-pairs?limit=1000", cancellationToken)).KeyPairs, Projects.CanChange, error);
}
