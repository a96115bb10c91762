namespace CloudPortal.Contracts.Identity;

/// <summary>
/// How the EC2 API gets an access token for the owner of a verified access key (ADR 0012): an OAuth token request
/// with this grant type, made as the <see cref="ClientId"/> confidential client, carrying the same fields as
/// <see cref="VerifyEc2Signature"/>. Identity verifies the signature again and answers a short-lived token that holds
/// the user's role in the key's project only.
/// </summary>
public static class Ec2Tokens
{
    public const string GrantType = "urn:cloudportal:params:oauth:grant-type:ec2-signature";

    public const string ClientId = "cloudportal-ec2";

    /// <summary>All-in-one: Identity writes the client's generated secret here, under the data directory (0600).</summary>
    public const string SecretFileName = "ec2-client-secret";

    public const string AccessKeyIdParameter = "access_key_id";
    public const string StringToSignParameter = "string_to_sign";
    public const string SignatureParameter = "signature";
    public const string ScopeParameter = "credential_scope";
    public const string ExpiresInParameter = "expires_in_seconds";
}
