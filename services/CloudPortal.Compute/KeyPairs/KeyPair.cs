using CloudPortal.ServiceDefaults.Http;

namespace CloudPortal.Compute.KeyPairs;

/// <summary>An SSH public key a project's instances can be launched with (EC2 semantics: per project, unique name).</summary>
public sealed class KeyPair : ISequenced
{
    public long Sequence { get; set; }

    public Guid Id { get; set; }

    public Guid ProjectId { get; set; }

    public required string Name { get; set; }

    public KeyType Type { get; set; }

    /// <summary>The OpenSSH public key line, normalised.</summary>
    public required string PublicKey { get; set; }

    public required string Fingerprint { get; set; }

    /// <summary>True when CloudPortal generated the key (its private key was shown once and not kept).</summary>
    public bool Generated { get; set; }

    public Guid? CreatedBy { get; set; }

    public DateTime CreatedAt { get; set; }
}
