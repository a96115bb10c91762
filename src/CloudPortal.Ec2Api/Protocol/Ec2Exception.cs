namespace CloudPortal.Ec2Api.Protocol;

/// <summary>An EC2 error: AWS's code, its sentence, and the HTTP status EC2 answers it with (EC2-API.md §1.5).</summary>
public sealed class Ec2Exception(string code, string message) : Exception(message)
{
    public string Code { get; } = code;

    /// <summary>Never a 5xx for a condition a retry cannot fix: SDKs retry 5xx.</summary>
    public int Status => Code switch
    {
        "AuthFailure" => 401,
        "UnauthorizedOperation" or "MissingAuthenticationToken" => 403,
        "DryRunOperation" => 412,
        "InsufficientInstanceCapacity" or "InternalError" => 500,
        "Unavailable" or "RequestLimitExceeded" => 503,
        _ => 400,
    };

    public static Ec2Exception Invalid(string message) => new("InvalidParameterValue", message);

    public static Ec2Exception Missing(string parameter) => new("MissingParameter", $"The request must contain the parameter {parameter}");

    public static Ec2Exception Unauthorized() => new("UnauthorizedOperation", "You are not authorized to perform this operation.");

    public static Ec2Exception DryRun() => new("DryRunOperation", "Request would have succeeded, but DryRun flag is set.");
}
