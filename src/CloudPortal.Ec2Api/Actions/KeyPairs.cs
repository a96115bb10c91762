using System.Text;
using CloudPortal.Compute.KeyPairs;
using CloudPortal.Ec2Api.Cloud;
using CloudPortal.Ec2Api.Protocol;
using static CloudPortal.Ec2Api.Protocol.Ec2Xml;

namespace CloudPortal.Ec2Api.Actions;

/// <summary>Key pairs are Compute's (EC2 fingerprints already); names are their EC2 identity, <c>key-</c> ids are derived.</summary>
public static class KeyPairs
{
    public static IEnumerable<Ec2Action> All =>
    [
        new("CreateKeyPair", true, CreateAsync),
        new("ImportKeyPair", true, ImportAsync),
        new("DescribeKeyPairs", false, DescribeAsync),
        new("DeleteKeyPair", true, DeleteAsync),
    ];

    private static readonly HashSet<string> KnownFilters = ["key-name", "key-pair-id", "fingerprint", "key-type"];

    private static async Task<List<KeyPairView>> VisibleAsync(Ec2Context context) =>
        await context.Api.AllAsync<KeyPairPage, KeyPairView>("compute", "compute/v1/key-pairs?limit=1000", p => (p.KeyPairs, p.Next), context.CancellationToken);

    private static async Task<IEnumerable<object?>> CreateAsync(Ec2Context context)
    {
        var name = context.Parameters.Required("KeyName");
        var type = context.Parameters.Value("KeyType") ?? "rsa";
        if (type is not ("rsa" or "ed25519"))
            throw Ec2Exception.Invalid($"Invalid value '{Ec2Parameters.Clip(type)}' for KeyType: rsa or ed25519.");
        if (context.Parameters.Value("KeyFormat") is { } format && format != "pem")
            throw Ec2Exception.Invalid($"Invalid value '{Ec2Parameters.Clip(format)}' for KeyFormat: this cloud writes private keys as pem.");
        if (context.DryRun)
        {
            await ThrowIfExistsAsync(context, name);
            context.ThrowIfDryRun();
        }
        var created = await SendAsync(context, name, new CreateKeyPair(name, null, type));
        return
        [
            X("keyName", created.Name),
            X("keyFingerprint", created.Fingerprint),
            X("keyMaterial", created.PrivateKey),
            X("keyPairId", Ec2Ids.Of(Ec2Ids.KeyPair, created.Id)),
            X("tagSet"),
        ];
    }

    private static async Task<IEnumerable<object?>> ImportAsync(Ec2Context context)
    {
        var name = context.Parameters.Required("KeyName");
        var material = context.Parameters.Required("PublicKeyMaterial");
        string publicKey;
        try
        {
            publicKey = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(material)).Trim();
        }
        catch (Exception ex) when (ex is FormatException or DecoderFallbackException)
        {
            throw new Ec2Exception("InvalidKey.Format", "Key is not in valid OpenSSH public key format (PublicKeyMaterial must be base64).");
        }
        if (context.DryRun)
        {
            await ThrowIfExistsAsync(context, name);
            context.ThrowIfDryRun();
        }
        var created = await SendAsync(context, name, new CreateKeyPair(name, publicKey, null));
        return
        [
            X("keyName", created.Name),
            X("keyFingerprint", created.Fingerprint),
            X("keyPairId", Ec2Ids.Of(Ec2Ids.KeyPair, created.Id)),
            X("tagSet"),
        ];
    }

    private static async Task ThrowIfExistsAsync(Ec2Context context, string name)
    {
        if (await context.Api.FindAsync<KeyPairView>("compute", $"compute/v1/key-pairs/{Uri.EscapeDataString(name)}", context.CancellationToken) is not null)
            throw Duplicate(name);
    }

    private static Ec2Exception Duplicate(string name) => new("InvalidKeyPair.Duplicate", $"The keypair '{Ec2Parameters.Clip(name)}' already exists.");

    private static async Task<CreatedKeyPairView> SendAsync(Ec2Context context, string name, CreateKeyPair body)
    {
        try
        {
            return await context.Api.SendAsync<CreatedKeyPairView>(HttpMethod.Post, "compute", "compute/v1/key-pairs", body, context.CancellationToken);
        }
        catch (ModuleProblemException problem)
        {
            throw (problem.Status, problem.Code) switch
            {
                (409, _) => Duplicate(name),
                (403, "quota_exceeded") => new Ec2Exception("ResourceLimitExceeded", problem.Message),
                (400, var code) when code.Contains("public_key", StringComparison.Ordinal) || code.Contains("key_type", StringComparison.Ordinal) =>
                    new Ec2Exception("InvalidKey.Format", problem.Message),
                _ => Ec2Errors.From(problem),
            };
        }
    }

    private static async Task<IEnumerable<object?>> DescribeAsync(Ec2Context context)
    {
        var p = context.Parameters;
        var keys = await VisibleAsync(context);
        var names = p.List("KeyName");
        var ids = p.List("KeyPairId");
        if (names.FirstOrDefault(n => keys.All(k => k.Name != n)) is { } missingName)
            throw Ec2Errors.KeyPairNotFound(missingName);
        if (ids.FirstOrDefault(i => keys.All(k => Ec2Ids.Of(Ec2Ids.KeyPair, k.Id) != i)) is { } missingId)
            throw new Ec2Exception("InvalidKeyPair.NotFound", $"The key pair ID '{Ec2Parameters.Clip(missingId)}' does not exist");
        var chosen = keys.Where(k => (names.Count == 0 || names.Contains(k.Name)) && (ids.Count == 0 || ids.Contains(Ec2Ids.Of(Ec2Ids.KeyPair, k.Id))));
        var filtered = Ec2Filters.Apply(chosen, p.Filters(), KnownFilters, (k, name) => name switch
        {
            "key-name" => [k.Name],
            "key-pair-id" => [Ec2Ids.Of(Ec2Ids.KeyPair, k.Id)],
            "fingerprint" => [k.Fingerprint],
            "key-type" => [k.Type],
            _ => [],
        }, _ => new Dictionary<string, string>());
        var includePublic = p.Bool("IncludePublicKey");
        return
        [
            Set("keySet", filtered.OrderBy(k => k.Name, StringComparer.Ordinal).Select(k => new object?[]
            {
                X("keyPairId", Ec2Ids.Of(Ec2Ids.KeyPair, k.Id)),
                X("keyName", k.Name),
                X("keyFingerprint", k.Fingerprint),
                X("keyType", k.Type == "ed25519" ? "ed25519" : "rsa"),
                X("createTime", k.CreatedAt),
                includePublic ? X("publicKey", k.PublicKey) : null,
                X("tagSet"),
            })),
        ];
    }

    private static async Task<IEnumerable<object?>> DeleteAsync(Ec2Context context)
    {
        var name = context.Parameters.Value("KeyName");
        var id = context.Parameters.Value("KeyPairId");
        if (name is null && id is null)
            throw Ec2Exception.Missing("KeyName");
        KeyPairView? key = null;
        if (id is not null)
            key = (await VisibleAsync(context)).FirstOrDefault(k => Ec2Ids.Of(Ec2Ids.KeyPair, k.Id) == id)
                ?? throw new Ec2Exception("InvalidKeyPair.NotFound", $"The key pair ID '{Ec2Parameters.Clip(id)}' does not exist");
        context.ThrowIfDryRun();
        try
        {
            await context.Api.SendAsync(HttpMethod.Delete, "compute", $"compute/v1/key-pairs/{Uri.EscapeDataString(key?.Id.ToString() ?? name!)}", null, context.CancellationToken);
        }
        catch (ModuleProblemException problem) when (problem.Status == 404)
        {
            // AWS answers true for a key name that does not exist: deleting is idempotent.
        }
        return [X("return", true)];
    }
}
