namespace CloudPortal.Identity.Connect;

/// <summary>The OIDC clients CloudPortal itself uses.</summary>
public static class Clients
{
    /// <summary>The web portal: a public client, authorization code + PKCE, refresh tokens.</summary>
    public const string Portal = "cloudportal-portal";

    /// <summary>Modules and compute agents: a confidential client, client credentials.</summary>
    public const string Service = "cloudportal-service";

    /// <summary>The EC2 API: a confidential client whose only grant trades a verified SigV4 signature for its owner's token (ADR 0012).</summary>
    public const string Ec2 = Contracts.Identity.Ec2Tokens.ClientId;

    /// <summary>The scope that grants CloudPortal's APIs.</summary>
    public const string ApiScope = "cloudportal";
}
