namespace CloudPortal.ServiceDefaults.Security.SigV4;

/// <summary>The EC2 error codes a SigV4 failure is reported with (AWS "common errors").</summary>
public static class SigV4ErrorCodes
{
    /// <summary>No Authorization header and no X-Amz-* query authentication at all. HTTP 403.</summary>
    public const string MissingAuthenticationToken = "MissingAuthenticationToken";

    /// <summary>Authentication is present but malformed or incomplete. HTTP 400.</summary>
    public const string IncompleteSignature = "IncompleteSignature";

    /// <summary>
    /// Well-formed, but not valid: wrong signature, unknown access key, tampered body or headers.
    /// HTTP 401, which is what EC2 itself returns.
    /// </summary>
    public const string AuthFailure = "AuthFailure";

    /// <summary>Signed more than the allowed skew away from the server's clock, or a presigned URL past its expiry. HTTP 400.</summary>
    public const string RequestExpired = "RequestExpired";
}

/// <summary>A SigV4 failure: a stable EC2 error code and a message that says what to fix.</summary>
public sealed record SigV4Error(string Code, string Message)
{
    public const string AuthFailureMessage = "AWS was not able to validate the provided access credentials";

    /// <summary>The HTTP status EC2 answers this code with.</summary>
    public int HttpStatus => Code switch
    {
        SigV4ErrorCodes.AuthFailure => 401,
        SigV4ErrorCodes.MissingAuthenticationToken => 403,
        _ => 400,
    };

    /// <summary>The answer for a bad signature or an unknown access key; the two are deliberately indistinguishable.</summary>
    public static SigV4Error AuthFailure(string message = AuthFailureMessage) => new(SigV4ErrorCodes.AuthFailure, message);

    internal static SigV4Error Incomplete(string message) => new(SigV4ErrorCodes.IncompleteSignature, message);

    internal static SigV4Error Expired(string message) => new(SigV4ErrorCodes.RequestExpired, message);
}
