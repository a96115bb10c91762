using System.Text.RegularExpressions;
using CloudPortal.Compute.Access;
using CloudPortal.Compute.Data;
using CloudPortal.Compute.Quotas;
using CloudPortal.Contracts.Identity;
using CloudPortal.ServiceDefaults.Errors;
using CloudPortal.ServiceDefaults.Http;
using CloudPortal.ServiceDefaults.OpenApi;
using CloudPortal.ServiceDefaults.Persistence;
using CloudPortal.ServiceDefaults.Quotas;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace CloudPortal.Compute.KeyPairs;

/// <param name="PublicKey">An OpenSSH public key to import; without it, CloudPortal generates a key pair of <paramref name="Type"/>.</param>
/// <param name="Type">For a generated key: <c>rsa</c> (2048 bits, the default) or <c>ed25519</c>.</param>
public sealed record CreateKeyPair(string? Name, string? PublicKey, string? Type);

public sealed record KeyPairView(Guid Id, string Name, string Type, string Fingerprint, string PublicKey, bool Generated, DateTime CreatedAt, string Self)
{
    public static KeyPairView Of(KeyPair k) =>
        new(k.Id, k.Name, k.Type.ToString().ToLowerInvariant(), k.Fingerprint, k.PublicKey, k.Generated, k.CreatedAt, $"/compute/v1/key-pairs/{k.Id}");
}

/// <summary>A key pair just generated: the private key is in this answer only and is not kept anywhere.</summary>
public sealed record CreatedKeyPairView(Guid Id, string Name, string Type, string Fingerprint, string PublicKey, bool Generated, DateTime CreatedAt, string Self, string? PrivateKey);

public sealed record KeyPairPage(IReadOnlyList<KeyPairView> KeyPairs, string? Next);

/// <summary>Key pairs of a project (EC2 semantics: the name is unique in the project; the private key of a generated pair is shown once).</summary>
public static partial class KeyPairsApi
{
    public static RouteGroupBuilder MapKeyPairs(this RouteGroupBuilder api)
    {
        api.MapGet("/key-pairs", List).WithSummary("The acting project's key pairs")
            .WithDescription("Filter `name`; paging with `limit` and `marker`.").Produces<KeyPairPage>().ProducesProblems(400, 403);
        api.MapPost("/key-pairs", Create).WithSummary("Import an OpenSSH public key, or generate a key pair (the private key is in this answer only)")
            .WithDescription("`publicKey` imports an OpenSSH (or RFC 4716, PEM) RSA ≥ 2048 bits, ed25519 or ECDSA key; without it `type` (rsa, the default, or ed25519) " +
                "is generated and `privateKey` is returned once. Fingerprints as EC2 shows them. Counts against `key_pairs`.")
            .Produces<CreatedKeyPairView>(StatusCodes.Status201Created).ProducesProblems(400, 403, 409);
        api.MapGet("/key-pairs/{keyPair}", Show).WithSummary("One key pair, by id or name").Produces<KeyPairView>().ProducesProblems(400, 403, 404);
        api.MapDelete("/key-pairs/{keyPair}", Delete).WithSummary("Delete a key pair; instances launched with it keep their key")
            .Produces(StatusCodes.Status204NoContent).ProducesProblems(400, 403, 404);
        return api;
    }

    public static ProblemHttpResult NotFound(string keyPair) =>
        Problems.NotFound("key_pair_not_found", "Key pair not found", $"No key pair '{keyPair}' in your project (across projects, name a key pair by its id).");

    /// <summary>
    /// A key pair of the scope by id or name. Names are unique within a project only, so across projects (a cloud admin
    /// naming none) a key pair is found by its id.
    /// </summary>
    public static IQueryable<KeyPair> Find(ComputeDbContext db, Scope scope, string keyPair)
    {
        var keys = scope.Project is { } project ? db.KeyPairs.Where(k => k.ProjectId == project) : db.KeyPairs;
        if (Guid.TryParse(keyPair, out var id))
            return keys.Where(k => k.Id == id);
        return scope.Project is null ? keys.Where(_ => false) : keys.Where(k => k.Name == keyPair);
    }

    private static async Task<IResult> List(HttpContext http, ComputeDbContext db, int? limit, Guid? marker, string? name)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var query = (scope.Project is { } project ? db.KeyPairs.Where(k => k.ProjectId == project) : db.KeyPairs).AsNoTracking();
        if (name is not null)
            query = query.Where(k => k.Name == name);
        var page = await query.PageAsync(http.Request, limit, marker, newestFirst: false, http.RequestAborted);
        return page.Problem ?? (IResult)TypedResults.Ok(new KeyPairPage(page.Items.Select(KeyPairView.Of).ToList(), page.Next));
    }

    private static async Task<IResult> Show(string keyPair, HttpContext http, ComputeDbContext db)
    {
        if (ComputeAccess.Read(http, out var scope) is { } problem)
            return problem;
        var key = await Find(db, scope, keyPair).AsNoTracking().SingleOrDefaultAsync(http.RequestAborted);
        return key is null ? NotFound(keyPair) : TypedResults.Ok(KeyPairView.Of(key));
    }

    private static async Task<IResult> Create(CreateKeyPair body, HttpContext http, ComputeDbContext db, ComputeUsageReporter usage, TimeProvider time)
    {
        if (ComputeAccess.Create(http, out var scope) is { } problem)
            return problem;
        var project = scope.Project!.Value;
        var name = body.Name ?? "";
        if (name.Length is 0 or > 255 || !KeyName().IsMatch(name) || Guid.TryParse(name, out _))
            return Problems.BadRequest("invalid_key_pair_name", "Invalid key pair name",
                "A key pair name is 1-255 printable ASCII characters without leading or trailing spaces, and not a UUID.");

        PublicKeyInfo publicKey;
        GeneratedKeyPair? generated = null;
        if (body.PublicKey is { } material)
        {
            if (body.Type is not null)
                return Problems.BadRequest("invalid_key_pair", "Type applies to generated keys", "Give either 'publicKey' (import) or 'type' (generate), not both.");
            try
            {
                publicKey = OpenSshKeys.Parse(material);
            }
            catch (InvalidPublicKeyException ex)
            {
                return Problems.BadRequest("invalid_public_key", "Invalid public key", ex.Message);
            }
        }
        else
        {
            KeyType type;
            switch (body.Type?.ToLowerInvariant())
            {
                case null or "rsa":
                    type = KeyType.Rsa;
                    break;
                case "ed25519":
                    type = KeyType.Ed25519;
                    break;
                default:
                    return Problems.BadRequest("unsupported_key_type", "Unsupported key type", $"'{body.Type}' cannot be generated; choose rsa or ed25519 (or import any OpenSSH key).");
            }
            generated = OpenSshKeys.Generate(type);
            publicKey = generated.Public;
        }

        var key = new KeyPair
        {
            Id = Guid.CreateVersion7(),
            ProjectId = project,
            Name = name,
            Type = publicKey.Type,
            PublicKey = publicKey.OpenSshLine,
            Fingerprint = generated?.Fingerprint ?? publicKey.Fingerprint,
            Generated = generated is not null,
            CreatedBy = scope.Caller.UserId,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        await using (var transaction = await db.Database.BeginTransactionAsync(http.RequestAborted))
        {
            await db.Database.LockAsync(project, http.RequestAborted);
            if (await db.KeyPairs.AnyAsync(k => k.ProjectId == project && k.Name == name, http.RequestAborted))
                return Exists(name);
            var limit = await db.LimitAsync(project, QuotaResources.KeyPairs, http.RequestAborted);
            var inUse = await db.KeyPairs.CountAsync(k => k.ProjectId == project, http.RequestAborted);
            if (inUse + 1 > limit)
                return ComputeQuotas.Exceeded(new QuotaShortfall(QuotaResources.KeyPairs, limit, inUse, 1));
            db.KeyPairs.Add(key);
            try
            {
                await db.SaveChangesAsync(http.RequestAborted);
            }
            catch (DbUpdateException)
            {
                return Exists(name);
            }
            await transaction.CommitAsync(http.RequestAborted);
        }
        usage.Touch(project);
        var view = KeyPairView.Of(key);
        return TypedResults.Created(view.Self, new CreatedKeyPairView(view.Id, view.Name, view.Type, view.Fingerprint, view.PublicKey, view.Generated, view.CreatedAt, view.Self, generated?.PrivateKey));
    }

    private static async Task<IResult> Delete(string keyPair, HttpContext http, ComputeDbContext db, ComputeUsageReporter usage)
    {
        if (ComputeAccess.Change(http, out var scope) is { } problem)
            return problem;
        var key = await Find(db, scope, keyPair).AsNoTracking().SingleOrDefaultAsync(http.RequestAborted);
        if (key is null)
            return NotFound(keyPair);
        await db.KeyPairs.Where(k => k.Id == key.Id).ExecuteDeleteAsync(http.RequestAborted);
        usage.Touch(key.ProjectId);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult Exists(string name) =>
        Problems.Conflict("key_pair_exists", "Key pair exists", $"Your project has a key pair named '{name}' already.");

    // EC2 allows up to 255 ASCII characters; leading/trailing spaces would make names that look alike.
    [GeneratedRegex(@"^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$")]
    private static partial Regex KeyName();
}
